// Package classify decides about one chat message: it normalizes the text,
// counts repeats, applies the rules of English, Hindi (Devanagari) and
// Hinglish, and returns a Decision with labels, an action and the reasons.
//
// Entry points:
//
//   - New builds an Engine from Options; the zero Options are the defaults.
//   - Engine.Decide classifies one Message. It is pure: time comes from
//     Message.TS, and there is no network, disk, clock or logging. Its
//     state sits behind small ports passed in: the dedup table (Seen;
//     state.MemorySeen by default), timeouts and bans (Restrictions),
//     and the trending clusters it joins questions to (Questions,
//     trend.Trending). Training lives in classify/train, tickets in
//     handoff, the wire types in chat (docs/ARCHITECTURE.md).
//   - Normalize returns the plain matching form of a text; ExtractOrderID
//     finds an order number in a support message.
//
// How a message is read: the text is normalized once into pooled buffers
// (NFKC, case folding, invisible characters and Latin accents removed,
// homoglyphs mapped), then reduced to a skeleton of words with leetspeak,
// spaced-out letters (and Devanagari syllables) and repeated letters
// undone. Rules are phrases over the skeleton's word hashes, so "f.u.c.k",
// "fuuuck" and "fцck" are one word, while "class", "assassin" and
// "Scunthorpe" are whole other words.
// The toxic lexicon comes from published word lists, curated (see
// lexicon/ATTRIBUTION.md).
//
// Escapes (\n, \xNN, \uXXXX, HTML character references) are decoded
// first (escape.go). Romanized Hindi is also matched through a phonetic
// key guarded by English and common-Hindi word lists (hinglish.go); words
// in @mentions and web addresses are never matched, and dictionary words
// only as written (match.go). Composed rules (compose.go) and question
// cues (question.go) look at the words around a hit.
//
// Actions: threats are held for a human; spam, floods and links from
// viewers are hidden (links and promotion from broadcaster, moderator and
// vip badges are not); slurs, harassment, gaalis and insults are held;
// mild profanity ("fucking love this song", "saala kya match tha") and
// slurs mentioned rather than aimed get the profanity label and are
// shown, unless aimed at someone ("fuck you", "tu kamina hai": toxic,
// held) or read by the model as abuse; ambiguous words ("kutta",
// "pagal") count only when aimed; everything else is allowed. Every hit is written as a Reason naming the rule and what it
// matched.
//
// Engine, Normalize and ExtractOrderID are safe for concurrent use.
package classify
