// Package policy is a channel's own rules, per stream, on top of the
// classify engine's built-in ones: blocked terms and RE2 regexes with
// their actions, allowed terms that quiet the built-in lexicons, limits
// (capitals, symbols, emotes, length, repeats, zalgo), a link allow- and
// block-list of registrable domains, badges exempt per rule, what each
// label does, the model's sensitivity (0–4) and escalation of repeat
// offences to a timeout. The format is docs/POLICY.md.
//
// Entry points:
//
//   - ParseYAML, ParseJSON and Validate read a policy and report every
//     problem at once, each naming its key; Merge lays a stream's
//     override over the default; Diff lists what a change changes.
//   - Compile builds the Rules of one policy: terms compiled through the
//     engine's own normalization (classify.TermWords), indexed by word
//     hash behind a bit filter; regexes bounded in size and run only when
//     the message holds one of their literals. Rules.Bind gives the
//     classify.Inspector the engine calls with its normal forms
//     (classify.Engine.DecideWith), so a message is normalized once.
//   - Book holds every stream's rules and decides messages (it is the
//     pipeline's Decider, in front of automation): Put and Reload swap in
//     new rules atomically, so the next message obeys them; it keeps the
//     streams' recent messages for trials and queues timeouts to the
//     desk on its own goroutine.
//   - Compare and Book.Try run two policies over recorded chat on fresh
//     engines and report what would change, by rule, with examples.
//
// Rules, Bound and Book are safe for concurrent use; Inspect never
// blocks (a timeout is queued, and dropped with a count when the queue
// is full). Every piece of state is bounded: the escalation table, the
// recent messages, the timeout queue, the streams set over REST.
package policy
