package privacy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/connect"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/trend"
)

// Keepers are everything that holds a user's data: the moderation desk's
// recent messages and the host's trending questions, the automation stage
// with its reply log and durable state (tickets, opt-outs, outbox), and
// the store (labeled examples, audit, restrictions, appeals).
type Keepers struct {
	Desk    *moderate.Desk
	Host    *moderate.Host
	Stage   *automate.Stage
	Replies *automate.ReplyLog
	State   *store.Automation
	DB      *store.DB
	Audit   *store.AuditSink
	Sampler *store.Sampler // quality-review samples still queued
	// RoleOf names the role of a token's name, for the audit entry.
	RoleOf func(actor string) string
}

// Export is the answer of GET /v1/users/{id}/export.
type Export struct {
	User        string                 `json:"user"`
	ExportedAt  int64                  `json:"exported_at"`
	Messages    []moderate.UserMessage `json:"messages"` // decisions kept by the desk
	Replies     []*chat.Reply          `json:"replies"`  // automated replies sent to them
	Automation  automate.UserData      `json:"automation"`
	Handoffs    []*chat.Ticket         `json:"handoffs"`
	Outbox      []store.OutboxEntry    `json:"webhook_outbox"`
	OptOut      *chat.OptOut           `json:"optout"`
	Restriction *store.Restriction     `json:"restriction"`
	Labeled     []store.LabeledExample `json:"labeled_examples"`
	Audit       []store.AuditEntry     `json:"audit"`
	Appeals     []store.Appeal         `json:"appeals"`
	// Reviews, Drafts (their saved copies, pending and decided),
	// PlatformActions and Restrictions (of every stream or one) are the
	// store's other records about them (store.UserStored).
	Reviews         []store.Review      `json:"reviews"`
	Drafts          []*chat.Draft       `json:"drafts"`
	PlatformActions []store.Action      `json:"platform_actions"`
	Restrictions    []store.Restriction `json:"restrictions"`
	// Questions are trending questions shown on the overlay in their words.
	Questions []trend.UserQuestion `json:"trending_questions"`
}

// Export gathers everything kept about user, under their bare id and
// every platform's key, and audits the export (committed before it
// returns).
func (k *Keepers) Export(actor, user string) (*Export, error) {
	user, aliases := PlatformAliases(user)
	ex := Export{User: user, ExportedAt: time.Now().UnixMilli(), Messages: k.Desk.UserMessages(user),
		Replies: k.Replies.To(user), Automation: k.Stage.UserData(user),
		Questions: orEmpty(k.Host.Trending().UserQuestions(user))}
	tickets, opt := k.State.UserRecords(user)
	ex.Handoffs, ex.OptOut = orEmpty(tickets), opt
	ids := ticketIDs(tickets)
	var err error
	if ex.Outbox, err = k.DB.OutboxOf(ids); err != nil {
		return nil, fmt.Errorf("export %q: outbox: %w", user, err)
	}
	if rs, ok, err := k.DB.RestrictionOf(user); err != nil {
		return nil, fmt.Errorf("export %q: restriction: %w", user, err)
	} else if ok {
		ex.Restriction = &rs
	}
	if ex.Appeals, err = k.DB.AppealsOf(user); err != nil {
		return nil, fmt.Errorf("export %q: %w", user, err)
	}
	if ex.Labeled, err = k.DB.LabelsOf(user); err != nil {
		return nil, fmt.Errorf("export %q: %w", user, err)
	}
	// Entries and samples still queued are written first, so the export
	// is complete.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := k.Sampler.Flush(ctx); err != nil {
		return nil, fmt.Errorf("export %q: flush reviews: %w", user, err)
	}
	ex.Reviews, ex.Drafts, ex.PlatformActions, ex.Restrictions = []store.Review{}, []*chat.Draft{}, []store.Action{}, []store.Restriction{}
	for _, u := range append([]string{user}, aliases...) {
		st, err := k.DB.UserStored(u)
		if err != nil {
			return nil, fmt.Errorf("export %q: %w", user, err)
		}
		ex.Reviews = append(ex.Reviews, st.Reviews...)
		ex.Drafts = append(ex.Drafts, st.Drafts...)
		ex.PlatformActions = append(ex.PlatformActions, st.Actions...)
		ex.Restrictions = append(ex.Restrictions, st.Restrictions...)
		ids = append(ids, st.IDs()...)
	}
	for _, ap := range ex.Appeals {
		ids = append(ids, ap.ID)
	}
	if err := k.Audit.Flush(ctx); err != nil {
		return nil, fmt.Errorf("export %q: flush audit: %w", user, err)
	}
	if ex.Audit, err = k.DB.AuditAbout(user, ids); err != nil {
		return nil, fmt.Errorf("export %q: %w", user, err)
	}
	if err := k.auditOfAliases(&ex, aliases); err != nil {
		return nil, fmt.Errorf("export %q: %w", user, err)
	}
	k.exportAliases(&ex, aliases)
	ex.Outbox, ex.Labeled, ex.Audit = orEmpty(ex.Outbox), orEmpty(ex.Labeled), orEmpty(ex.Audit)
	// The export itself is audited (after it was read: it does not list
	// itself), committed before the answer.
	k.Audit.Record(store.AuditEntry{Actor: actor, Action: "export", Target: user, User: user})
	if err := k.Audit.Flush(ctx); err != nil {
		return nil, fmt.Errorf("export %q: audit: %w", user, err)
	}
	return &ex, nil
}

// auditOfAliases adds the audit entries about user's platform keys to
// ex.Audit, once each, in log order.
func (k *Keepers) auditOfAliases(ex *Export, aliases []string) error {
	seen := map[uint64]bool{}
	for _, e := range ex.Audit {
		seen[e.Seq] = true
	}
	for _, al := range aliases {
		more, err := k.DB.AuditAbout(al, nil)
		if err != nil {
			return err
		}
		for _, e := range more {
			if !seen[e.Seq] {
				seen[e.Seq] = true
				ex.Audit = append(ex.Audit, e)
			}
		}
	}
	slices.SortFunc(ex.Audit, func(x, y store.AuditEntry) int { return cmp.Compare(x.Seq, y.Seq) })
	return nil
}

// Erasure is the answer of DELETE /v1/users/{id}.
type Erasure struct {
	User   string `json:"user"`
	Erased struct {
		Messages   int `json:"messages"`   // the desk's recent decisions
		Automation int `json:"automation"` // recent messages, draft and waiting places
		Replies    int `json:"replies"`
		Handoffs   int `json:"handoffs"`
		OptOuts    int `json:"optouts"`
		Outbox     int `json:"webhook_outbox"`
		Labeled    int `json:"labeled_examples"`
		Audit      int `json:"audit_redacted"`
		Questions  int `json:"trending_questions"` // shown in their words, or counting them as an asker
		Appeals    int `json:"appeals"`
		Reviews    int `json:"reviews"`          // open ones deleted, decided ones redacted
		Drafts     int `json:"drafts"`           // saved drafts addressed to them
		Actions    int `json:"platform_actions"` // finished deleted, pending without reason
	} `json:"erased"`
	// RestrictionKept says a running timeout or ban stays, without its
	// reason: erasure does not lift it.
	RestrictionKept bool `json:"restriction_kept"`
}

// Erase forgets user everywhere their data is kept, under their bare id
// and every platform's key, and audits the erasure durably. A running
// timeout or ban stays, without its reason.
func (k *Keepers) Erase(ctx context.Context, actor, user string) (*Erasure, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// What the audit sink and the review sampler still queue must be on
	// disk to be redacted.
	if err := k.Audit.Flush(ctx); err != nil {
		return nil, fmt.Errorf("erase %q: flush audit: %w", user, err)
	}
	if err := k.Sampler.Flush(ctx); err != nil {
		return nil, fmt.Errorf("erase %q: flush reviews: %w", user, err)
	}
	var out Erasure
	out.User = user
	user, aliases := PlatformAliases(user)
	aliasTickets, err := k.eraseAliases(ctx, &out, aliases)
	if err != nil {
		return nil, err
	}
	if out.Erased.Messages, err = k.Desk.EraseUser(user); err != nil {
		return nil, err
	}
	if _, _, kept := k.Desk.Restricted(user); kept {
		out.RestrictionKept = true
	}
	out.Erased.Automation += k.Stage.EraseUser(user)
	out.Erased.Questions = k.Host.EraseUser(user)
	out.Erased.Replies += k.Replies.EraseUser(user)
	st, err := k.State.EraseUser(ctx, user)
	if err != nil {
		return nil, err
	}
	out.Erased.Handoffs += len(st.Tickets)
	out.Erased.OptOuts += st.OptOuts
	out.Erased.Outbox += st.Outbox
	rec := store.AuditEntry{TS: time.Now().UnixMilli(), Actor: actor, Role: k.RoleOf(actor), Action: "erase", Target: user}
	// The stage saved its re-rendered drafts above; the store deletes the
	// rest of the user's drafts, reviews, appeals and platform actions and
	// redacts the audit in one transaction.
	dr, err := k.DB.EraseUser(user, append(st.Tickets, aliasTickets...), rec, aliases...)
	if err != nil {
		return nil, err
	}
	k.Sampler.Erased(dr.OpenReviews)
	out.Erased.Labeled, out.Erased.Audit, out.Erased.Appeals = dr.Labels, dr.Audit, dr.Appeals
	out.Erased.Reviews, out.Erased.Drafts, out.Erased.Actions = dr.Reviews, dr.Drafts, dr.Actions
	return &out, nil
}

func ticketIDs(ts []*chat.Ticket) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// PlatformAliases are the other keys a user's records may be under: a
// connector's users have their reply caps, opt-outs and automated replies
// keyed by (platform, user) (chat.Subject), the rest by the bare id.
// Export and erasure of "42" (or "twitch:42") cover the bare id and every
// platform's: erasing too much is the safe side.
func PlatformAliases(user string) (bare string, aliases []string) {
	bare = user
	if p, id, ok := strings.Cut(user, ":"); ok && id != "" && (p == connect.PlatformTwitch || p == connect.PlatformYouTube) {
		bare = id
	}
	for _, p := range []string{connect.PlatformTwitch, connect.PlatformYouTube} {
		aliases = append(aliases, chat.Subject(p, bare))
	}
	return bare, aliases
}

// exportAliases adds what is kept under the platform keys of user to ex.
func (k *Keepers) exportAliases(ex *Export, aliases []string) {
	for _, al := range aliases {
		ex.Replies = append(ex.Replies, k.Replies.To(al)...)
		if _, opt := k.State.UserRecords(al); opt != nil && ex.OptOut == nil {
			ex.OptOut = opt
		}
		if rs, ok, err := k.DB.RestrictionOf(al); err == nil && ok && ex.Restriction == nil {
			ex.Restriction = &rs
		}
	}
}

// eraseAliases erases what is kept under the platform keys of user and
// returns the ids of the tickets it deleted (their audit entries are
// redacted with the user's).
func (k *Keepers) eraseAliases(ctx context.Context, out *Erasure, aliases []string) ([]string, error) {
	var tickets []string
	for _, al := range aliases {
		if _, _, kept := k.Desk.Restricted(al); kept {
			out.RestrictionKept = true
		}
		out.Erased.Automation += k.Stage.EraseUser(al)
		out.Erased.Replies += k.Replies.EraseUser(al)
		st, err := k.State.EraseUser(ctx, al)
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
