// Package moderate is the human desk beside the automatic pipeline.
//
// Desk is the moderators' side: it keeps a bounded ring of each stream's
// recent decisions indexed by message id, their states (visible, held,
// hidden, approved), and the users under a timeout or ban. It acts on
// hide / approve / unhide, timeout / ban / unban, and undoes a rule's
// recent burst of hides in one action. Every human action is written to
// the audit log with the acting token's name, and announced to the
// stream's moderator view as an event line, so every open console and
// subscriber sees it.
//
// Host is the hosts' side: it turns decisions into the overlay view's
// trending list (trend.Trending), counts agent requests, and carries
// out pin / answered / dismiss.
//
// Both implement stream.Sink (Decided) and give new subscribers a
// snapshot. Both are goroutine-safe. Neither holds a lock while
// publishing.
package moderate
