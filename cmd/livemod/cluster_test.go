package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/internal/testenv"
)

// Two (or more) whole servers in one test, sharing a redis-server of the
// test's own (docs/SCALING.md): what one node decides, another's pages
// see; what one node's moderators do, every node applies.

// startNodes starts n nodes named a, b, … sharing r.
func startNodes(t *testing.T, r *testenv.Redis, n int, mutate func(*config.Config)) []*testApp {
	t.Helper()
	var nodes []*testApp
	for i := range n {
		name := string(rune('a' + i))
		nodes = append(nodes, runApp(t, t.TempDir(), func(c *config.Config) {
			c.Redis = r.URL()
			c.Cluster.Node = name
			c.Cluster.LeaseTTL = 2 * time.Second
			withAgent(c)
			shippingFAQ(c)
			if mutate != nil {
				mutate(c)
			}
		}))
	}
	// Every node knows every other (heartbeats every second) before the
	// test talks to them.
	for _, node := range nodes {
		eventually(t, 10*time.Second, "every node seeing the others", func() bool {
			_, body := get(t, "http://"+node.Addr()+"/readyz", adminSecret)
			return strings.Contains(body, fmt.Sprintf(", %d nodes,", n))
		})
	}
	return nodes
}

// answersTo returns the replies view's replies answering message id.
func (v *views) answersTo(id string) []chat.Reply {
	return v.replies(func(r chat.Reply) []string { return r.InReplyTo }, id)
}

// TestClusterFanOut: decisions made on node A reach a moderator page
// connected to node B, every one once, each user's in order.
func TestClusterFanOut(t *testing.T) {
	r := testenv.StartRedis(t)
	nodes := startNodes(t, r, 2, nil)
	a, b := nodes[0], nodes[1]
	send(t, a.Addr(), "show", chatLine("first", "u-0", "hello")) // A takes the stream
	v := watchViews(t, b, "show")
	var lines []string
	const users, each = 20, 15
	for i := range each {
		for u := range users {
			lines = append(lines, chatLine(fmt.Sprintf("f-%d-%d", u, i), fmt.Sprintf("fu-%d", u), fmt.Sprintf("message %d of viewer %d", i, u)))
		}
	}
	send(t, a.Addr(), "show", lines...)
	eventually(t, 15*time.Second, "every decision on B", func() bool {
		n := 0
		for _, l := range v.of(broker.ViewModerator) {
			if strings.Contains(l, `"id":"f-`) {
				n++
			}
		}
		return n >= users*each
	})
	seen := map[string]int{}
	last := map[string]int{}
	for _, l := range v.of(broker.ViewModerator) {
		var d chat.Decision
		if json.Unmarshal([]byte(l), &d) != nil || !strings.HasPrefix(d.ID, "f-") {
			continue
		}
		seen[d.ID]++
		var u, i int
		fmt.Sscanf(d.ID, "f-%d-%d", &u, &i)
		if prev, ok := last[d.User.ID]; ok && i <= prev {
			t.Errorf("user %s: message %d after %d", d.User.ID, i, prev)
		}
		last[d.User.ID] = i
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("decision %s reached B %d times", id, n)
		}
	}
	if len(seen) != users*each {
		t.Errorf("B saw %d decisions, want %d", len(seen), users*each)
	}
}

// TestClusterSharedState: messages of one stream sent to both nodes are
// decided as one audience: a raid spread over A and B is caught, one
// asker gets one FAQ answer, a trending question counts askers from both,
// a ban made on B silences the user on A within a second, a STOP on A
// holds on B, a ticket is one per user, and two agents on two nodes
// racing to claim it: exactly one wins.
func TestClusterSharedState(t *testing.T) {
	r := testenv.StartRedis(t)
	nodes := startNodes(t, r, 2, nil)
	a, b := nodes[0], nodes[1]
	send(t, a.Addr(), "show", chatLine("first", "u-0", "hello"))    // A decides "show"
	send(t, b.Addr(), "other", chatLine("first-b", "u-0", "hello")) // B decides "other"
	v := watchViews(t, b, "show")
	vo := watchViews(t, a, "other")

	// The raid: 8 copies from 8 users, alternating nodes.
	const raid = "THE GOAT OF LIVE SHOPPING 🐐🐐🐐 NOBODY DOES IT LIKE DIDI"
	var raidIDs []string
	for i := range 8 {
		id := fmt.Sprintf("raid-%d", i)
		raidIDs = append(raidIDs, id)
		node := a
		if i%2 == 1 {
			node = b
		}
		send(t, node.Addr(), "show", chatLine(id, fmt.Sprintf("raider-%d", i), raid))
	}
	ds := v.waitDecisions(t, raidIDs...)
	allowed := 0
	for _, id := range raidIDs {
		if ds[id].Action == chat.Allow {
			allowed++
		} else if ds[id].Reasons[0].Rule != "flood.copypasta" {
			t.Errorf("raid copy %s: %v %v", id, ds[id].Action, ds[id].Reasons)
		}
	}
	if allowed > 3 {
		t.Errorf("%d raid copies over two nodes allowed, want at most 3", allowed)
	}

	// One asker, the same FAQ question on A and at once on B: one node
	// decides both, so one is answered and the other waits out the FAQ's
	// cooldown (two deciders would answer both).
	send(t, a.Addr(), "show", chatLine("cap-1", "asker", "what is the shipping time?"))
	send(t, b.Addr(), "show", chatLine("cap-2", "asker", "what is the shipping time?"))
	caps := v.waitDecisions(t, "cap-1", "cap-2")
	answered := 0
	for _, d := range caps {
		for _, r := range d.Reasons {
			if r.Rule == "faq.answer" {
				answered++
			}
		}
	}
	if answered != 1 {
		t.Errorf("the same asker's question on two nodes was answered %d times: %v / %v", answered, caps["cap-1"].Reasons, caps["cap-2"].Reasons)
	}
	eventually(t, 5*time.Second, "the FAQ answer", func() bool { return len(v.answersTo("cap-1")) == 1 })
	if n := len(v.answersTo("cap-2")); n != 0 {
		t.Errorf("the same asker was answered again through B (%d replies)", n)
	}

	// A question asked on both nodes trends with every asker.
	for i := range 6 {
		node := a
		if i%2 == 1 {
			node = b
		}
		send(t, node.Addr(), "show", chatLine(fmt.Sprintf("xl-%d", i), fmt.Sprintf("xl-asker-%d", i), "XL size hai kya?"))
	}
	eventually(t, 10*time.Second, "6 askers on B's overlay", func() bool {
		for _, q := range v.overlay().Questions {
			if q.Askers >= 6 {
				return true
			}
		}
		return false
	})

	// A ban made on B (every stream) silences the user on A within a
	// second: A applies it when Redis's notice arrives, milliseconds after
	// B's 200, so the user keeps writing to A until a message is hidden.
	mustCall(t, "POST", "http://"+b.Addr()+"/v1/users/troll/ban", modSecret, `{"reason":"spam"}`, 200)
	banned := time.Now()
	var hiddenAfter time.Duration
	for i := 0; hiddenAfter == 0; i++ {
		id := fmt.Sprintf("ban-%d", i)
		send(t, a.Addr(), "show", chatLine(id, "troll", "hello everyone"))
		d := v.waitDecisions(t, id)[id]
		switch {
		case d.Action == chat.Hide && d.Reasons[0].Rule == "user.ban":
			hiddenAfter = time.Since(banned)
		case time.Since(banned) > 3*time.Second:
			t.Fatalf("3 s after the ban on B, A still decides the user's messages %v %v", d.Action, d.Reasons)
		default:
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("the ban made on B held on A after %v", hiddenAfter)

	// A STOP on A ("show") holds for B's stream "other".
	send(t, a.Addr(), "show", chatLine("stop-1", "quiet", "STOP"))
	eventually(t, 5*time.Second, "the STOP decided", func() bool { _, ok := v.decision("stop-1"); return ok })
	eventually(t, 3*time.Second, "the STOP applied on B (the map's notice)", func() bool {
		var ex struct {
			OptOut *chat.OptOut `json:"optout"` // B's own part of the export
		}
		callJSON(t, "GET", "http://"+b.Addr()+"/v1/users/quiet/export", adminSecret, "", &ex)
		return ex.OptOut != nil && ex.OptOut.Out
	})
	send(t, b.Addr(), "other", chatLine("stop-2", "quiet", "what is the shipping time?"), chatLine("stop-ctl", "loud", "what is the shipping time?"))
	eventually(t, 5*time.Second, "the control answer on other", func() bool { return len(vo.answersTo("stop-ctl")) == 1 })
	if n := len(vo.answersTo("stop-2")); n != 0 {
		t.Errorf("an opted-out user was answered on the other node (%d replies)", n)
	}

	// A ticket: opened through B, joined through A, one ticket.
	send(t, b.Addr(), "show", chatLine("tk-1", "buyer", "agent please, my order 5521 never arrived"))
	var id string
	eventually(t, 5*time.Second, "the ticket, listed on A and on B", func() bool {
		for _, node := range nodes {
			var list struct {
				Handoffs []chat.Ticket `json:"handoffs"`
			}
			callJSON(t, "GET", "http://"+node.Addr()+"/v1/handoffs?stream=show", agentSecret, "", &list)
			if len(list.Handoffs) != 1 {
				return false
			}
			id = list.Handoffs[0].ID
		}
		return true
	})
	send(t, a.Addr(), "show", chatLine("tk-2", "buyer", "agent please, still waiting for order 5521"))
	time.Sleep(300 * time.Millisecond)
	var list struct {
		Handoffs []chat.Ticket `json:"handoffs"`
	}
	callJSON(t, "GET", "http://"+b.Addr()+"/v1/handoffs?stream=show", agentSecret, "", &list)
	if len(list.Handoffs) != 1 {
		t.Errorf("%d tickets for one user over two nodes, want 1", len(list.Handoffs))
	}

	// A ticket opened by the other node (it decides "other") gets an id
	// of its own: ids come from blocks reserved in Redis.
	send(t, b.Addr(), "other", chatLine("tk-o", "buyer2", "agent please, my order 7781 never arrived"))
	var other struct {
		Handoffs []chat.Ticket `json:"handoffs"`
	}
	eventually(t, 5*time.Second, "the ticket on other", func() bool {
		callJSON(t, "GET", "http://"+a.Addr()+"/v1/handoffs?stream=other", agentSecret, "", &other)
		return len(other.Handoffs) == 1
	})
	if other.Handoffs[0].ID == id {
		t.Errorf("tickets of two nodes share the id %s", id)
	}
	// An agent's inbox of every stream, through either node, lists both.
	for _, node := range nodes {
		var all struct {
			Handoffs []chat.Ticket `json:"handoffs"`
			Total    int           `json:"total"`
		}
		callJSON(t, "GET", "http://"+node.Addr()+"/v1/handoffs", agentSecret, "", &all)
		if len(all.Handoffs) != 2 || all.Total != 2 {
			t.Errorf("the inbox of every stream through %s: %d tickets (total %d), want 2", node.Addr(), len(all.Handoffs), all.Total)
		}
	}

	// Two agents, one on each node, claim it at once.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, node := range nodes {
		wg.Go(func() {
			codes[i], _ = call(t, "POST", "http://"+node.Addr()+"/v1/handoffs/"+id+"/claim", agentSecret, "")
		})
	}
	wg.Wait()
	if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
		t.Errorf("claims on A and B answered %v, want one 200 and one 409", codes)
	}
}

// TestClusterRedisRestart: with Redis gone each node keeps deciding its
// own traffic and says it is degraded; when Redis is back, decisions flow
// across nodes again without a restart.
func TestClusterRedisRestart(t *testing.T) {
	r := testenv.StartRedis(t)
	nodes := startNodes(t, r, 2, nil)
	a, b := nodes[0], nodes[1]
	send(t, a.Addr(), "show", chatLine("first", "u-0", "hello"))
	va := watchViews(t, a, "show")
	vb := watchViews(t, b, "show")
	send(t, a.Addr(), "show", chatLine("before", "u-1", "hello from before"))
	vb.waitDecisions(t, "before")

	r.Stop()
	eventually(t, 10*time.Second, "A degraded on /readyz", func() bool {
		code, body := get(t, "http://"+a.Addr()+"/readyz", adminSecret)
		return code == http.StatusOK && strings.Contains(body, "degraded")
	})
	_, metrics := get(t, "http://"+a.Addr()+"/metrics", adminSecret)
	if !strings.Contains(metrics, "livemod_cluster_degraded 1") {
		t.Error("/metrics lacks livemod_cluster_degraded 1 while Redis is down")
	}
	send(t, a.Addr(), "show", chatLine("during", "u-2", "hello while redis is down"))
	va.waitDecisions(t, "during")

	r.Start()
	eventually(t, 20*time.Second, "A ready again", func() bool {
		_, body := get(t, "http://"+a.Addr()+"/readyz", adminSecret)
		return !strings.Contains(body, "degraded")
	})
	eventually(t, 20*time.Second, "decisions on B after Redis came back", func() bool {
		send(t, a.Addr(), "show", chatLine(fmt.Sprintf("after-%d", time.Now().UnixNano()), "u-3", "hello after"))
		for _, l := range vb.of(broker.ViewModerator) {
			if strings.Contains(l, `"id":"after-`) {
				return true
			}
		}
		time.Sleep(200 * time.Millisecond)
		return false
	})
}

// TestClusterKPIsFollowTheStream: node A decides a show and leaves the
// cluster; node B takes the show over, and its KPIs count what A decided
// too (A's minutes, mirrored to Redis, are added at the takeover).
func TestClusterKPIsFollowTheStream(t *testing.T) {
	r := testenv.StartRedis(t)
	nodes := startNodes(t, r, 2, nil)
	a, b := nodes[0], nodes[1]
	var lines []string
	for i := range 50 {
		lines = append(lines, chatLine(fmt.Sprintf("kp-%d", i), fmt.Sprintf("kv-%d", i%7), fmt.Sprintf("loving this show, part %d", i)))
	}
	send(t, a.Addr(), "show", lines...)
	a.stop(t) // flushes its KPI minutes and releases its leases
	send(t, b.Addr(), "show", chatLine("kp-b", "kv-b", "hello from the other node"))
	var rep struct {
		Meaningful struct {
			Of int64 `json:"of"`
		} `json:"meaningful_comment_rate"`
	}
	eventually(t, 10*time.Second, "B's KPIs counting A's messages", func() bool {
		callJSON(t, "GET", "http://"+b.Addr()+"/v1/kpis?stream=show", modSecret, "", &rep)
		return rep.Meaningful.Of >= 51
	})
}

// TestClusterRESTAnyNode: what a moderator or agent does through node B
// reaches the stream's decider, node A: a hide by message id, a draft's
// approval by id; the audit log of either node lists both nodes' entries;
// an erasure asked of B reaches A's data.
func TestClusterRESTAnyNode(t *testing.T) {
	r := testenv.StartRedis(t)
	nodes := startNodes(t, r, 2, func(c *config.Config) {
		c.FAQ = append(c.FAQ, config.FAQ{ID: "giftwrap", Match: []string{"gift wrap"}, Answer: "{author_name}, gift wrap is free on every order.", Approve: true})
	})
	a, b := nodes[0], nodes[1]
	baseA, baseB := "http://"+a.Addr(), "http://"+b.Addr()
	send(t, a.Addr(), "show", chatLine("first", "u-0", "hello"))
	v := watchViews(t, b, "show")
	send(t, a.Addr(), "show",
		chatLine("hm-1", "hider", "my secret words about the blue jacket"),
		chatLine("rp-1", "gifter", "can you gift wrap the jacket?"))
	if d := v.waitDecisions(t, "hm-1", "rp-1")["rp-1"]; d.FAQ != nil || !strings.Contains(fmt.Sprint(d.Reasons), "faq.draft") {
		t.Fatalf("the gift-wrap question: %v", d.Reasons)
	}

	// A hide by id through B, with the stream and without.
	mustCall(t, "POST", baseB+"/v1/messages/hm-1/hide", modSecret, `{"stream":"show","reason":"off topic"}`, 200)
	if code, body := call(t, "POST", baseB+"/v1/messages/hm-1/hide", modSecret, `{"reason":"again"}`); code != http.StatusConflict {
		t.Errorf("second hide through B without a stream: %d %s, want 409 from A (not 404)", code, body)
	}
	mustCall(t, "POST", baseB+"/v1/messages/hm-1/unhide", modSecret, `{"reason":"fine after all"}`, 200)

	// The draft waits on A; B lists it and approves it.
	var drafts struct {
		Drafts []chat.Draft `json:"drafts"`
	}
	eventually(t, 5*time.Second, "the draft listed through B", func() bool {
		callJSON(t, "GET", baseB+"/v1/replies/drafts?stream=show&state=pending", modSecret, "", &drafts)
		return len(drafts.Drafts) == 1
	})
	mustCall(t, "POST", baseB+"/v1/replies/drafts/"+drafts.Drafts[0].ID+"/approve", modSecret, `{"reason":"ok"}`, 200)
	eventually(t, 5*time.Second, "the approved reply on B's replies view", func() bool { return len(v.answersTo("rp-1")) == 1 })

	// A ban through B with no stream is B's own action: the audit has
	// entries of both nodes, merged on either.
	mustCall(t, "POST", baseB+"/v1/users/spammer/ban", modSecret, `{"reason":"spam"}`, 200)
	for _, base := range []string{baseA, baseB} {
		var log struct {
			Entries []struct {
				Node   string `json:"node"`
				Action string `json:"action"`
			} `json:"entries"`
		}
		callJSON(t, "GET", base+"/v1/audit?limit=1000", adminSecret, "", &log)
		byNode := map[string]map[string]bool{}
		for _, e := range log.Entries {
			if byNode[e.Node] == nil {
				byNode[e.Node] = map[string]bool{}
			}
			byNode[e.Node][e.Action] = true
		}
		if !byNode["a"]["hide"] || !byNode["b"]["ban"] {
			t.Errorf("audit through %s: %v; want A's hide and B's ban", base, byNode)
		}
	}

	// Erasure through B reaches the message A decided.
	mustCall(t, "DELETE", baseB+"/v1/users/hider", adminSecret, "", 200)
	for _, base := range []string{baseA, baseB} {
		_, body := get(t, base+"/v1/users/hider/export", adminSecret)
		if strings.Contains(body, "secret words") {
			t.Errorf("export through %s after erasure still has the words: %s", base, body)
		}
	}
}

// TestClusterFormerOwnerDefers: node A opens a ticket and leaves; B takes
// the stream over and claims the ticket; A comes back with its old copy
// on disk. Through A, the inbox shows B's copy only, a second claim is
// refused by B (409, not a stale 200 on A), and a resolve goes to B.
func TestClusterFormerOwnerDefers(t *testing.T) {
	r := testenv.StartRedis(t)
	node := func(dir, id string) *testApp {
		return runApp(t, dir, func(c *config.Config) {
			c.Redis, c.Cluster.Node, c.Cluster.LeaseTTL = r.URL(), id, 2*time.Second
			withAgent(c)
		})
	}
	dirA := t.TempDir()
	a := node(dirA, "a")
	b := node(t.TempDir(), "b")
	send(t, a.Addr(), "show", chatLine("t-1", "buyer", "agent please, my order 5521 never arrived"))
	var list struct {
		Handoffs []chat.Ticket `json:"handoffs"`
		Total    int           `json:"total"`
	}
	eventually(t, 5*time.Second, "the ticket on A", func() bool {
		callJSON(t, "GET", "http://"+a.Addr()+"/v1/handoffs?stream=show", agentSecret, "", &list)
		return len(list.Handoffs) == 1
	})
	id := list.Handoffs[0].ID
	a.stop(t) // leaves: its lease goes at once

	send(t, b.Addr(), "show", chatLine("t-2", "buyer", "hello? still waiting for 5521"))
	mustCall(t, "POST", "http://"+b.Addr()+"/v1/handoffs/"+id+"/claim", agentSecret, "", 200)

	a = node(dirA, "a") // back, with the open copy on its disk
	eventually(t, 10*time.Second, "A seeing B", func() bool {
		_, body := get(t, "http://"+a.Addr()+"/readyz", adminSecret)
		return strings.Contains(body, ", 2 nodes,")
	})
	callJSON(t, "GET", "http://"+a.Addr()+"/v1/handoffs", agentSecret, "", &list)
	if len(list.Handoffs) != 1 || list.Handoffs[0].State != chat.TicketClaimed || list.Total != 1 {
		t.Errorf("the inbox through the former owner: %+v (total %d); want B's claimed copy only", list.Handoffs, list.Total)
	}
	if code, body := call(t, "POST", "http://"+a.Addr()+"/v1/handoffs/"+id+"/claim", agentSecret, ""); code != http.StatusConflict {
		t.Errorf("a second claim through the former owner: %d %s, want B's 409", code, body)
	}
	mustCall(t, "POST", "http://"+a.Addr()+"/v1/handoffs/"+id+"/resolve", agentSecret, `{"note":"refunded"}`, 200)
	callJSON(t, "GET", "http://"+b.Addr()+"/v1/handoffs?stream=show&state=resolved", agentSecret, "", &list)
	if len(list.Handoffs) != 1 || list.Handoffs[0].State != chat.TicketResolved {
		t.Errorf("on B after the resolve through A: %+v", list.Handoffs)
	}
}
