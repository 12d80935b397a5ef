package main

import (
	"context"
	"strings"

	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/connect"
)

// platformAliases are the other keys a user's records may be under: a
// connector's users have their reply caps, opt-outs and automated replies
// keyed by (platform, user) (classify.Subject), the rest by the bare id.
// Export and erasure of "42" (or "twitch:42") cover the bare id and every
// platform's: erasing too much is the safe side.
func platformAliases(user string) (bare string, aliases []string) {
	bare = user
	if p, id, ok := strings.Cut(user, ":"); ok && id != "" && (p == connect.PlatformTwitch || p == connect.PlatformYouTube) {
		bare = id
	}
	for _, p := range []string{connect.PlatformTwitch, connect.PlatformYouTube} {
		aliases = append(aliases, classify.Subject(p, bare))
	}
	return bare, aliases
}

// exportAliases adds what is kept under the platform keys of user to ex.
func (a *app) exportAliases(ex *userExport, aliases []string) {
	for _, al := range aliases {
		ex.Replies = append(ex.Replies, a.auto.replies.To(al)...)
		if _, opt := a.auto.state.UserRecords(al); opt != nil && ex.OptOut == nil {
			ex.OptOut = opt
		}
		if rs, ok, err := a.db.RestrictionOf(al); err == nil && ok && ex.Restriction == nil {
			ex.Restriction = &rs
		}
	}
}

// eraseAliases erases what is kept under the platform keys of user and
// returns the ids of the tickets it deleted (their audit entries are
// redacted with the user's).
func (a *app) eraseAliases(ctx context.Context, out *erased, aliases []string) ([]string, error) {
	var tickets []string
	for _, al := range aliases {
		if _, _, kept := a.desk.Restricted(al); kept {
			out.RestrictionKept = true
		}
		out.Erased.Automation += a.auto.stage.EraseUser(al)
		out.Erased.Replies += a.auto.replies.EraseUser(al)
		st, err := a.auto.state.EraseUser(ctx, al)
		if err != nil {
			return nil, err
		}
		tickets = append(tickets, st.Tickets...)
		out.Erased.Handoffs += len(st.Tickets)
		out.Erased.OptOuts += st.OptOuts
		out.Erased.Outbox += st.Outbox
	}
	return tickets, nil
}
