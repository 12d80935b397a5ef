package main

import (
	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/config"
)

// newStage builds the automation stage (FAQ answers, replies, handoffs)
// from the config: serve and replay share it, so replay gives the same
// faq and handoff fields as the server. state may leave OptOuts, Tickets,
// IDs and Output nil (memory, discard): replay does.
func newStage(cfg config.Config, state automate.Options) (*automate.Stage, error) {
	var faq *classify.FAQMatcher
	if len(cfg.FAQ) > 0 {
		entries := make([]classify.FAQEntry, len(cfg.FAQ))
		for i, f := range cfg.FAQ {
			entries[i] = classify.FAQEntry{ID: f.ID, Match: f.Match, Answer: f.Answer, Approve: f.Approve, Product: f.Product}
		}
		var err error
		faq, err = classify.NewFAQMatcher(entries, classify.FAQOptions{Threshold: cfg.Replies.MatchThreshold})
		if err != nil {
			return nil, err
		}
	}
	opts := state
	opts.Prefix = cfg.Replies.Prefix
	opts.PerUserPerHour = cfg.Replies.PerUserPerHour
	opts.Cooldown = cfg.Replies.Cooldown
	opts.FAQ = faq
	opts.PublicNotice = cfg.Handoff.PublicNotice
	opts.Summary = cfg.Handoff.Summary
	opts.HandoffPurchase = cfg.Handoff.PurchaseIntent
	return automate.New(opts)
}
