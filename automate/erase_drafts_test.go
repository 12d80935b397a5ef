package automate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestEraseUserDrafts: erasing an asker of a pending draft shared with
// another re-renders it without them and hands it to Output.Drafted (so
// that the saved copy loses them too); a draft for them alone and a
// decided one naming them are gone from the queue.
func TestEraseUserDrafts(t *testing.T) {
	dec, s, rec := engineStage(t, showOptions(t))
	say(dec, 1, "zoya", nil, "how much is the blue jacket?")
	if ds := s.Drafts("s", chat.DraftPending); len(ds) != 1 {
		t.Fatalf("drafts = %+v; want one pending", ds)
	} else if _, err := s.DecideDraft(ds[0].ID, false, "mods", t0+2000); err != nil {
		t.Fatal(err)
	}
	say(dec, 3, "zoya", nil, "price of the blue jacket please?")
	say(dec, 4, "omar", nil, "how much is the blue jacket?")
	pending := s.Drafts("s", chat.DraftPending)
	if len(pending) != 1 || len(pending[0].To) != 2 {
		t.Fatalf("pending drafts = %+v; want one for zoya and omar", pending)
	}
	rec.lines = nil
	if n := s.EraseUser("zoya"); n < 2 {
		t.Errorf("EraseUser = %d; want ≥ 2 (two drafts)", n)
	}
	all := s.Drafts("s", "")
	if len(all) != 1 || !slices.Equal(all[0].To, []string{"omar"}) || strings.Contains(all[0].Text, "zoya") || all[0].Asked != "" {
		t.Errorf("drafts after erasure = %+v; want only the pending one, for omar, without zoya's name or words", all)
	}
	if len(rec.lines) != 1 || !strings.Contains(rec.lines[0], "draft {") || strings.Contains(rec.lines[0], "zoya") {
		t.Errorf("Output after erasure = %q; want the re-rendered draft saved once, without zoya", rec.lines)
	}
}
