package chat

// Reasons of the restriction step.
const (
	RuleUserBan     = "user.ban"
	RuleUserTimeout = "user.timeout"
)

// Restricted reports whether d is about a restricted user's message.
func (d *Decision) Restricted() bool {
	return len(d.Reasons) > 0 && (d.Reasons[0].Rule == RuleUserBan || d.Reasons[0].Rule == RuleUserTimeout)
}
