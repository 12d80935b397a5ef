package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

type auditPage struct {
	Entries []store.AuditEntry `json:"entries"`
	Next    uint64             `json:"next"`
}

// auditActions returns the audit's entries of stream by action.
func auditActions(t *testing.T, base, stream string) map[string][]store.AuditEntry {
	t.Helper()
	var p auditPage
	callJSON(t, "GET", base+"/v1/audit?limit=1000&stream="+stream, adminSecret, "", &p)
	out := map[string][]store.AuditEntry{}
	for _, e := range p.Entries {
		out[e.Action] = append(out[e.Action], e)
	}
	return out
}

// TestAuditComplete: an opt-out, an opt-in, a ticket's creation, claim
// and resolution, an export and an erasure are each audited with the
// time, actor, role, stream (where there is one), action and target; the
// log pages with ?before= and exports as NDJSON and CSV; `livemod audit
// verify` passes, and fails once a byte of an entry is changed on disk.
func TestAuditComplete(t *testing.T) {
	dir := t.TempDir()
	ta := openApp(t, dir)
	base := "http://" + ta.Addr()
	// The retention purge runs as the server starts, and is audited.
	eventually(t, 5*time.Second, "the start's retention purge is audited", func() bool {
		var p auditPage
		callJSON(t, "GET", base+"/v1/audit?limit=10", adminSecret, "", &p)
		for _, e := range p.Entries {
			if e.Action == "retention.purge" && e.Role == "system" && strings.HasPrefix(e.Reason, "tickets=0 ") {
				return true
			}
		}
		return false
	})
	brIngest(t, ta.Addr(), "gov",
		msg("g-1", "u-1", "agent please, order 5521 refund", 0),
		msg("g-2", "u-2", "STOP", 0),
		msg("g-3", "u-2", "START", 0),
		msg("g-4", "u-3", "FREE followers at bit.ly/xyz", 0))
	var tickets struct {
		Handoffs []chat.Ticket `json:"handoffs"`
	}
	eventually(t, 5*time.Second, "the ticket", func() bool {
		callJSON(t, "GET", base+"/v1/handoffs?stream=gov", agentSecret, "", &tickets)
		return len(tickets.Handoffs) == 1
	})
	id := tickets.Handoffs[0].ID
	for _, a := range []string{"claim", "resolve"} {
		if code, body := call(t, "POST", base+"/v1/handoffs/"+id+"/"+a, agentSecret, ""); code != 200 {
			t.Fatalf("%s: %d %s", a, code, body)
		}
	}
	if code, body := get(t, base+"/v1/users/u-3/export", adminSecret); code != 200 {
		t.Fatalf("export: %d %s", code, body)
	}
	if code, body := call(t, "DELETE", base+"/v1/users/u-3", adminSecret, ""); code != 200 {
		t.Fatalf("erase: %d %s", code, body)
	}
	acts := auditActions(t, base, "gov")
	for _, want := range []struct{ action, actor, role, target string }{
		{"ticket.create", "auto", "system", id},
		{"handoff.claim", "agent-anita", "agent", id},
		{"handoff.resolve", "agent-anita", "agent", id},
		{"optout", "u-2", "viewer", "u-2"},
		{"optin", "u-2", "viewer", "u-2"},
		{"hide", "auto", "system", "g-4"},
	} {
		es := acts[want.action]
		if len(es) != 1 {
			t.Errorf("audit of stream gov: %d %s entries, want 1 (all: %v)", len(es), want.action, acts)
			continue
		}
		e := es[0]
		if e.Actor != want.actor || e.Role != want.role || e.Target != want.target || e.Stream != "gov" || e.TS == 0 || e.Hash == "" {
			t.Errorf("%s entry = %+v; want actor %s, role %s, target %s, stream gov, a time and a hash", want.action, e, want.actor, want.role, want.target)
		}
	}
	var all auditPage
	callJSON(t, "GET", base+"/v1/audit?limit=1000", adminSecret, "", &all)
	var exp, era bool
	for _, e := range all.Entries {
		// The erasure that followed redacted the export's entry (it
		// named u-3): when, who and what stay.
		exp = exp || (e.Action == "export" && e.Actor == "ops" && e.Role == "admin" && e.Erased)
		era = era || (e.Action == "erase" && e.Actor == "ops" && e.Role == "admin" && e.Target == "u-3")
	}
	if !exp || !era {
		t.Errorf("export audited %v, erasure audited %v; want both, by ops (admin)", exp, era)
	}

	// Paging: limit 2 pages, newest first, to the end, no entry twice.
	seen := map[uint64]bool{}
	var before uint64
	for pages := 0; ; pages++ {
		var p auditPage
		url := base + "/v1/audit?limit=2"
		if before > 0 {
			url += fmt.Sprintf("&before=%d", before)
		}
		callJSON(t, "GET", url, adminSecret, "", &p)
		for _, e := range p.Entries {
			if seen[e.Seq] || (before > 0 && e.Seq >= before) {
				t.Fatalf("page %d: entry %d again or not before %d", pages, e.Seq, before)
			}
			seen[e.Seq] = true
		}
		if p.Next == 0 {
			break
		}
		before = p.Next
	}
	if len(seen) != len(all.Entries) {
		t.Errorf("paging saw %d entries, the whole log has %d", len(seen), len(all.Entries))
	}

	// NDJSON and CSV.
	code, nd := get(t, base+"/v1/audit?format=ndjson", adminSecret)
	lines := strings.Split(strings.TrimSpace(nd), "\n")
	if code != 200 || len(lines) != len(all.Entries) {
		t.Fatalf("ndjson: %d, %d lines; want %d", code, len(lines), len(all.Entries))
	}
	var first store.AuditEntry
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Seq != all.Entries[0].Seq {
		t.Errorf("ndjson first line %q: %v", lines[0], err)
	}
	code, cs := get(t, base+"/v1/audit?format=csv&stream=gov", adminSecret)
	recs, err := csv.NewReader(strings.NewReader(cs)).ReadAll()
	n := 0
	for _, es := range acts {
		n += len(es)
	}
	if code != 200 || err != nil || len(recs) != 1+n {
		t.Errorf("csv: %d, %v, %d records", code, err, len(recs))
	}
	if len(recs) > 0 && strings.Join(recs[0], ",") != "seq,ts,actor,role,stream,action,target,user,reason,rule,erased,pd,hash" {
		t.Errorf("csv header %v", recs[0])
	}

	// Verify on the stopped server's data, then change a byte.
	ta.stop(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"audit", "verify", "--data", dir}, nil, &out, &out); err != nil || !strings.HasPrefix(out.String(), "ok: ") {
		t.Fatalf("audit verify: %v\n%s", err, out.String())
	}
	path := filepath.Join(dir, "livemod.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old := []byte(`"action":"handoff.claim"`)
	if !bytes.Contains(b, old) {
		t.Fatal("no handoff.claim entry in the file")
	}
	// Every copy (bbolt may keep an old page): one byte each.
	b = bytes.ReplaceAll(b, old, []byte(`"action":"handoff.clain"`))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(context.Background(), []string{"audit", "verify", "--data", dir}, nil, &out, &out)
	if err == nil || !strings.Contains(out.String(), "BROKEN at entry") || exitCode(err) != 1 {
		t.Fatalf("audit verify after the change: %v (exit %d)\n%s", err, exitCode(err), out.String())
	}
	var claim store.AuditEntry
	for _, e := range all.Entries {
		if e.Action == "handoff.claim" {
			claim = e
		}
	}
	if !strings.Contains(out.String(), fmt.Sprintf("BROKEN at entry %d:", claim.Seq)) {
		t.Errorf("verify names %q; want the claim's entry %d", out.String(), claim.Seq)
	}
}
