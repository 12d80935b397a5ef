// Package trend owns the trending questions: clusters of the questions
// viewers ask, per stream, with their distinct askers decaying over time,
// the wording shown, and the host's pin, answered and dismiss
// (trend.go); and the terms a question is reduced to, in English, Hindi
// and Hinglish (trend_terms.go).
//
// Trending is the one place this state lives. The classify engine joins
// allowed questions through its classify.Questions port (ObserveMessage,
// Purge), the moderation host acts on them (Pin, Answered, Dismiss, Hide,
// RemoveUser, EraseUser); nothing else keeps a copy. It imports nothing of
// livemod but chat, has no clock (time comes from the messages) and does
// no I/O.
//
// Trending is goroutine-safe: streams are sharded, one lock each, never
// two held at once.
package trend
