package chat

// Decider decides about one message: *classify.Engine, the engine with
// the streams' policies (policy.Book), or automation's Wrap of either.
// The pipeline's shards and replay run one.
type Decider interface {
	Decide(m *Message) Decision
}

// An IntoDecider decides into a Decision the caller reuses, reusing its
// storage too (classify.Engine, automate's wrapped engine): each shard
// decides every message into one Decision.
type IntoDecider interface {
	DecideInto(d *Decision, m *Message)
}
