package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/store"
	bolt "go.etcd.io/bbolt"
)

// storedExport is the part of the export TestEraseEveryRecord reads
// besides export's.
type storedExport struct {
	export
	Reviews []store.Review `json:"reviews"`
	Drafts  []chat.Draft   `json:"drafts"`
	Appeals []store.Appeal `json:"appeals"`
}

// TestEraseEveryRecord: a user with a ticket, an opt-out, a labeled
// example (a reviewer's mark), sampled reviews, a pending and a decided
// draft and an appeal finds each in the export; after DELETE
// /v1/users/{id} the export is empty of them, no bucket of the data file
// holds their id or words (but the audit's erase and export entries,
// which name the user: README.md, "Erasure"), `livemod audit verify`
// passes, and all of it holds after a restart.
func TestEraseEveryRecord(t *testing.T) {
	const user, words = "u-gone-9", "Elm Street"
	dir := t.TempDir()
	setup := func(c *config.Config) {
		withAgent(c)
		c.FAQ = []config.FAQ{{ID: "shipping", Match: []string{"shipping"}, Answer: "{author_name}, shipping takes 3 to 5 days.", Approve: true}}
		c.Review.Share = 1
	}
	app1 := runApp(t, dir, setup)
	base := "http://" + app1.Addr()
	pending := func() []chat.Draft {
		var ds struct{ Drafts []chat.Draft }
		callJSON(t, "GET", base+"/v1/replies/drafts?stream=er&state=pending", modSecret, "", &ds)
		return ds.Drafts
	}
	brIngest(t, app1.Addr(), "er", msg("q-1", user, "when will my shipping to Elm Street arrive?", 0))
	eventually(t, 5*time.Second, "a pending draft", func() bool { return len(pending()) == 1 })
	callJSON(t, "POST", base+"/v1/replies/drafts/"+pending()[0].ID+"/approve", modSecret, `{"reason":"fine"}`, &chat.Draft{})
	brIngest(t, app1.Addr(), "er",
		msg("q-2", user, "how long is shipping to Elm Street now?", 0),
		msg("s-1", user, "FREE followers at bit.ly/xyz Elm Street", 0),
		msg("t-1", user, "agent please, order 5521 refund to Elm Street", 0))
	eventually(t, 5*time.Second, "a second pending draft", func() bool { return len(pending()) == 1 })
	var ap struct{ ID string }
	callJSON(t, "POST", base+"/v1/appeals", ingestSecret, `{"stream":"er","user":{"id":"`+user+`"},"message_id":"s-1","text":"appeal from Elm Street"}`, &ap)
	var rvs struct{ Reviews []store.Review }
	eventually(t, 5*time.Second, "a review of the hide", func() bool {
		callJSON(t, "GET", base+"/v1/reviews?stream=er&state=open", modSecret, "", &rvs)
		for _, r := range rvs.Reviews {
			if r.Action == "hide" {
				return true
			}
		}
		return false
	})
	for _, r := range rvs.Reviews {
		if r.Action == "hide" {
			callJSON(t, "POST", base+"/v1/reviews/"+r.ID+"/wrong", modSecret, `{"note":"fine for Elm Street"}`, &store.Review{})
		}
	}
	brIngest(t, app1.Addr(), "er", msg("x-9", user, "STOP", 0), msg("o-1", "u-other", "great show", 0))

	var ex storedExport
	eventually(t, 5*time.Second, "the export lists every record", func() bool {
		callJSON(t, "GET", base+"/v1/users/"+user+"/export", adminSecret, "", &ex)
		return len(ex.Reviews) >= 2 && len(ex.Drafts) == 2 && len(ex.Appeals) == 1 && len(ex.Handoffs) == 1 && ex.OptOut != nil && len(ex.Labeled) >= 1
	})
	states := map[string]bool{}
	for _, d := range ex.Drafts {
		states[d.State] = true
	}
	if !states[chat.DraftPending] || !states[chat.DraftApproved] {
		t.Errorf("exported drafts %+v; want a pending and an approved one", ex.Drafts)
	}

	var er struct{ Erased map[string]int }
	callJSON(t, "DELETE", base+"/v1/users/"+user, adminSecret, "", &er)
	for k, least := range map[string]int{"reviews": 2, "drafts": 2, "appeals": 1, "handoffs": 1, "optouts": 1, "labeled_examples": 1} {
		if er.Erased[k] < least {
			t.Errorf("erased %s = %d, want ≥ %d (%v)", k, er.Erased[k], least, er.Erased)
		}
	}
	checkEmpty := func(base string) {
		t.Helper()
		var after storedExport
		callJSON(t, "GET", base+"/v1/users/"+user+"/export", adminSecret, "", &after)
		if n := len(after.Reviews) + len(after.Drafts) + len(after.Appeals) + len(after.Handoffs) + len(after.Labeled) + len(after.Automation.Drafts) + len(after.Messages); n != 0 || after.OptOut != nil {
			t.Errorf("export after erasure = %+v; want it empty", after)
		}
		var ds struct{ Drafts []chat.Draft }
		callJSON(t, "GET", base+"/v1/replies/drafts?stream=er", modSecret, "", &ds)
		if len(ds.Drafts) != 0 {
			t.Errorf("drafts after erasure: %+v", ds.Drafts)
		}
	}
	checkEmpty(base)
	app1.stop(t)

	// The data file, bucket by bucket: the user's id and words are gone
	// but from the audit entries of the erasure and of the exports.
	scanFile(t, filepath.Join(dir, "livemod.db"), user, words, "Elm street")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"audit", "verify", "--data", dir}, nil, &out, &out); err != nil || !strings.HasPrefix(out.String(), "ok: ") {
		t.Fatalf("audit verify after erasure: %v\n%s", err, out.String())
	}
	app2 := runApp(t, dir, setup)
	checkEmpty("http://" + app2.Addr())
}

// scanFile fails the test on any value of any bucket of the bbolt file at
// path that holds one of strs, but for the audit's erase and export
// entries.
func scanFile(t *testing.T, path string, strs ...string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := 0
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				seen++
				for _, line := range bytes.Split(v, []byte("\n")) {
					if string(name) == "audit" {
						var e struct{ Action string }
						if json.Unmarshal(line, &e) == nil && (e.Action == "erase" || e.Action == "export") {
							continue
						}
					}
					for _, s := range strs {
						if bytes.Contains(line, []byte(s)) {
							t.Errorf("bucket %s key %q still holds %q: %s", name, k, s, line)
						}
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatal("the data file has no records: nothing was scanned")
	}
}
