package main

// Browser tests of the first hour: pages opened without ?stream=, with a
// bad token, and the index at /; the console's confirm dialog, names in
// toasts, toasts that do not overlap, the badge's language; the tools
// page (drafts, unban, dead webhooks, KPIs, audit).

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/overlay"
)

// TestBrowserPagesWithoutStream: /moderator without a stream is a picker
// of the streams with live counts, never "reconnecting"; its links open
// the console; /agent without a stream shows every stream's tickets, live.
func TestBrowserPagesWithoutStream(t *testing.T) {
	addr := brApp(t)
	browser := brBrowser(t)
	shots := brShotDir(t)
	brIngest(t, addr, "alpha", brMsg("a-1", "asha", "hello from alpha"), brMsg("a-2", "ravi", "nice show"))
	brIngest(t, addr, "beta", brMsg("b-1", "meera", "I want to talk to an agent about my refund for order 5521"))

	// Moderator console without a stream: the picker.
	brRun(t, browser, "open console without stream", chromedp.Navigate("http://"+addr+"/moderator?token="+modSecret))
	brWait(t, browser, 3*time.Second, `!document.getElementById("picker").hidden &&
		document.getElementById("console-body").hidden &&
		document.querySelectorAll("#picker-list .pick-row").length === 2 &&
		document.querySelector('#picker-list .pick-row[data-stream="alpha"]').textContent.includes("2 messages")`)
	if s := brEval[string](t, browser, `document.getElementById("status").textContent`); s != "choose a stream" {
		t.Errorf("badge without a stream = %q, want \"choose a stream\"", s)
	}
	href := brEval[string](t, browser, `document.querySelector('#picker-list .pick-row[data-stream="alpha"] a').getAttribute("href")`)
	if !strings.Contains(href, "/moderator?stream=alpha&token="+modSecret) {
		t.Errorf("picker link = %q", href)
	}
	// New chat shows in the picker's counts without a reload.
	brIngest(t, addr, "alpha", brMsg("a-3", "dev", "third"))
	brWait(t, browser, 5*time.Second, `document.querySelector('#picker-list .pick-row[data-stream="alpha"]').textContent.includes("3 messages")`)
	brShot(t, browser, shots, "moderator-picker", 1280, 720)
	// The language switch reaches the badge and the picker.
	brRun(t, browser, "switch language", chromedp.KeyEvent("l"))
	brWait(t, browser, 2*time.Second, `document.getElementById("status").textContent === "स्ट्रीम चुनें" &&
		document.querySelector('#picker-list .pick-row[data-stream="alpha"]').textContent.includes("संदेश")`)
	brRun(t, browser, "switch back", chromedp.KeyEvent("l"))
	brFollow(t, browser, `#picker-list .pick-row[data-stream="alpha"] a`)
	brWait(t, browser, 3*time.Second, `location.search.includes("stream=alpha") &&
		document.querySelector("#status").classList.contains("connected") &&
		document.querySelectorAll("#feed .row").length === 3`)

	// Agent inbox without a stream: every stream's tickets, live.
	tab := brTab(t, browser)
	brRun(t, tab, "open inbox without stream", chromedp.Navigate("http://"+addr+"/agent?token="+brAgentSecret))
	brWait(t, tab, 3*time.Second, `document.querySelectorAll("#col-open .ticket").length === 1 &&
		document.querySelector("#col-open .ticket .stream-tag").textContent === "beta" &&
		document.querySelector("#status").classList.contains("connected") &&
		document.querySelectorAll("#streams a.pick").length === 2`)
	if s := brEval[string](t, tab, `document.getElementById("stream-name").textContent`); s != "All streams" {
		t.Errorf("inbox title = %q, want All streams", s)
	}
	// A ticket in another stream arrives live.
	brIngest(t, addr, "alpha", brMsg("a-4", "kiran", "agent please, my parcel was not delivered, order 7788"))
	brWait(t, tab, 8*time.Second, `document.querySelectorAll("#col-open .ticket").length === 2`)
	brShot(t, tab, shots, "agent-all-streams", 1280, 720)
}

// TestBrowserBadToken: a page opened without a token, with an unknown one
// or with one of another role says so in words, with how to get a working
// link, and answers 401 or 403 — never raw JSON.
func TestBrowserBadToken(t *testing.T) {
	addr := brApp(t)
	browser := brBrowser(t)
	for _, tc := range []struct {
		path   string
		status int
		kind   string
		want   []string
	}{
		{"/moderator", 401, "missing", []string{"This link has no token", "?token=", "livemod demo"}},
		{"/agent?stream=x", 401, "missing", []string{"This link has no token"}},
		{"/moderator?token=not-a-known-token", 401, "unknown", []string{"This token is not known to this server", "livemod serve --token"}},
		{"/overlay/show?token=wrong-one-too", 401, "unknown", []string{"not known"}},
		{"/moderator?token=" + hostSecret, 403, "role", []string{"This token cannot open the moderator console", "role host", "moderator, admin", "See the pages this token can open"}},
		{"/agent?token=" + modSecret, 403, "role", []string{"cannot open the agent inbox"}},
		{"/?token=nope-nope-nope", 401, "unknown", []string{"not known"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, err := http.Get("http://" + addr + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: %d %s, want %d text/html", tc.path, res.StatusCode, res.Header.Get("Content-Type"), tc.status)
			}
			if res.Header.Get("Content-Security-Policy") != overlay.PageCSP {
				t.Errorf("denied page without the pages' CSP")
			}
			brRun(t, browser, "open "+tc.path, chromedp.Navigate("http://"+addr+tc.path))
			text := brEval[string](t, browser, `document.body.innerText`)
			if strings.HasPrefix(strings.TrimSpace(text), "{") {
				t.Fatalf("raw JSON in the browser: %q", text)
			}
			if k := brEval[string](t, browser, `document.getElementById("denied").dataset.kind`); k != tc.kind {
				t.Errorf("kind %q, want %q", k, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("page lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "not-a-known-token") {
				t.Errorf("the page echoes the unknown token")
			}
		})
	}
	// The wrong-role page links to the index with the same token, which works.
	brRun(t, browser, "open with host token", chromedp.Navigate("http://"+addr+"/moderator?token="+hostSecret))
	brFollow(t, browser, `#denied a`)
	brWait(t, browser, 3*time.Second, `location.pathname === "/" && !!document.querySelector('#pages li[data-page="host"]')`)
}

// TestBrowserIndex: GET / lists the pages the token may open.
func TestBrowserIndex(t *testing.T) {
	addr := brApp(t)
	browser := brBrowser(t)
	brIngest(t, addr, "show", brMsg("m-1", "asha", "hello"))
	pages := func(token string) string {
		brRun(t, browser, "open index", chromedp.Navigate("http://"+addr+"/?token="+token))
		brWait(t, browser, 3*time.Second, `document.querySelectorAll("#pages > li").length > 0`)
		return brEval[string](t, browser, `Array.from(document.querySelectorAll("#pages > li")).map(li => li.dataset.page || "none").join(",")`)
	}
	for _, tc := range []struct{ token, want string }{
		{modSecret, "moderator,tools,overlay,metrics"},
		{brAgentSecret, "agent"},
		{hostSecret, "host,overlay"},
		{adminSecret, "moderator,tools,agent,host,overlay,metrics"},
		{ingestSecret, "none"},
	} {
		if got := pages(tc.token); got != tc.want {
			t.Errorf("index for token %s lists %q, want %q", tc.token, got, tc.want)
		}
	}
	pages(modSecret)
	href := brEval[string](t, browser, `document.querySelector('#pages li[data-page="moderator"] .streams a').getAttribute("href")`)
	if href != "/moderator?stream=show&token="+modSecret {
		t.Errorf("index link = %q", href)
	}
	if txt := brEval[string](t, browser, `document.getElementById("who").textContent`); !strings.Contains(txt, "mods") || !strings.Contains(txt, "moderator") {
		t.Errorf("index says who = %q", txt)
	}
	pages(ingestSecret)
	if txt := brEval[string](t, browser, `document.getElementById("pages").textContent`); !strings.Contains(txt, "ingest role") {
		t.Errorf("ingest index = %q", txt)
	}
	// Without a token: the denied page, 401.
	if code, _ := get(t, "http://"+addr+"/", ""); code != http.StatusUnauthorized {
		t.Errorf("GET / without token: %d, want 401", code)
	}
}

// TestBrowserConsoleConfirmAndToasts: b and t ask to confirm, with a
// reason (and a duration for a timeout), Escape cancels; the toast names
// the user; toasts stack without overlapping; the badge follows the
// language.
func TestBrowserConsoleConfirmAndToasts(t *testing.T) {
	addr := brApp(t)
	browser := brBrowser(t)
	shots := brShotDir(t)
	brRun(t, browser, "open console", chromedp.Navigate("http://"+addr+"/moderator?stream=show&token="+modSecret))
	brWait(t, browser, 3*time.Second, `document.querySelector("#status").classList.contains("connected")`)
	brIngest(t, addr, "show", brMsg("m-1", "troll", "you are an idiot"), brMsg("m-2", "asha", "hello"), brMsg("m-3", "ravi", "hi all"))
	brWait(t, browser, 3*time.Second, `document.querySelectorAll("#feed .row").length === 3`)
	restricted := func() []overlay.Restricted {
		var v struct{ Restricted []overlay.Restricted }
		_, body := get(t, "http://"+addr+"/v1/users/restricted", modSecret)
		json.Unmarshal([]byte(body), &v)
		return v.Restricted
	}

	// "b" opens the dialog and bans nobody; Escape closes it.
	brRun(t, browser, "select and press b", chromedp.Click(chromedp.CSS(`#feed .row[data-id="m-1"] .text`)), chromedp.KeyEvent("b"))
	brWait(t, browser, 2*time.Second, `document.getElementById("confirm").open &&
		document.getElementById("confirm-h").textContent.includes("troll") &&
		document.getElementById("confirm-duration-row").hidden`)
	if r := restricted(); len(r) != 0 {
		t.Fatalf("b banned at once: %+v", r)
	}
	if v := brEval[string](t, browser, `document.activeElement.id + "=" + document.getElementById("confirm-reason").value`); v != "confirm-reason=toxic.lexicon" {
		t.Errorf("dialog focus=value: %q, want the reason field holding the rule", v)
	}
	brShot(t, browser, shots, "moderator-confirm-ban", 1280, 720)
	brRun(t, browser, "escape", chromedp.KeyEvent("\x1b"))
	brWait(t, browser, 2*time.Second, `!document.getElementById("confirm").open`)
	if r := restricted(); len(r) != 0 {
		t.Fatalf("a cancelled ban banned: %+v", r)
	}

	// "t": a timeout with a duration and a reason; the toast names the user.
	brRun(t, browser, "press t", chromedp.Click(chromedp.CSS(`#feed .row[data-id="m-1"] .text`)), chromedp.KeyEvent("t"))
	brWait(t, browser, 2*time.Second, `document.getElementById("confirm").open && !document.getElementById("confirm-duration-row").hidden`)
	brRun(t, browser, "fill the reason",
		chromedp.SetValue(chromedp.CSS(`#confirm-reason`), "insults in chat"),
		chromedp.SetValue(chromedp.CSS(`#confirm-duration`), "3600"),
		chromedp.Click(chromedp.CSS(`#confirm-ok`)))
	eventually(t, 3*time.Second, "the timeout", func() bool {
		r := restricted()
		return len(r) == 1 && r[0].User == "troll" && r[0].Reason == "insults in chat" &&
			r[0].Until > time.Now().Add(50*time.Minute).UnixMilli()
	})
	brWait(t, browser, 3*time.Second, `Array.from(document.querySelectorAll("#toasts .toast")).some(t => t.textContent.startsWith("troll: timed out") && t.textContent.includes("insults in chat"))`)

	// A ban from the button, confirmed: the toast names the user by name,
	// not id, even when the name differs from the id.
	brIngest(t, addr, "show", `{"id":"m-4","user":{"id":"u-486","name":"Priya"},"text":"buy followers now","ts":1}`)
	brWait(t, browser, 3*time.Second, `!!document.querySelector('#feed .row[data-id="m-4"] button[data-action="ban"]')`)
	brRun(t, browser, "click ban", chromedp.Click(chromedp.CSS(`#feed .row[data-id="m-4"] button[data-action="ban"]`)))
	brWait(t, browser, 2*time.Second, `document.getElementById("confirm").open`)
	brRun(t, browser, "confirm", chromedp.Click(chromedp.CSS(`#confirm-ok`)))
	brWait(t, browser, 3*time.Second, `Array.from(document.querySelectorAll("#toasts .toast")).some(t => t.textContent.startsWith("Priya: banned"))`)

	// Toasts stack: none overlaps another.
	brRun(t, browser, "more toasts", chromedp.Evaluate[chromedp.Void](`LM.toast("one"); LM.toast("two"); LM.toast("three")`))
	overlap := brEval[bool](t, browser, `(() => {
		const r = Array.from(document.querySelectorAll("#toasts .toast")).map(e => e.getBoundingClientRect());
		for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++)
			if (r[i].top < r[j].bottom && r[j].top < r[i].bottom) return true;
		return r.length < 2;
	})()`)
	if overlap {
		t.Error("toasts overlap")
	}
	if n := brEval[int](t, browser, `document.querySelectorAll("#toasts .toast").length`); n > 4 {
		t.Errorf("%d toasts at once, want at most 4", n)
	}

	// The badge follows the language switch.
	brRun(t, browser, "switch language", chromedp.Click(chromedp.CSS(`#lang`)))
	brWait(t, browser, 2*time.Second, `document.getElementById("status").textContent === "लाइव"`)
	brRun(t, browser, "switch back", chromedp.Click(chromedp.CSS(`#lang`)))
	brWait(t, browser, 2*time.Second, `document.getElementById("status").textContent === "live"`)
}

// TestBrowserTools: reply drafts, unban, dead webhooks, KPIs and the
// audit, each reached from a page.
func TestBrowserTools(t *testing.T) {
	addr := startApp(t, func(c *config.Config) {
		c.Auth.Tokens = append(c.Auth.Tokens, auth.Token{Name: "agent-anita", Role: auth.RoleAgent, Secret: brAgentSecret})
		c.FAQ = []config.FAQ{{ID: "shipping", Match: []string{"shipping", "delivery time"}, Answer: "{author_name}, shipping takes 3–5 days.", Approve: true}}
		c.Handoff.Webhook = "http://127.0.0.1:1/crm" // nothing listens: every delivery fails
		c.Handoff.WebhookSecret = "sixteen-characters-at-least"
		c.Handoff.Retry = config.WebhookRetry{MaxAttempts: 1, Initial: time.Millisecond, Max: time.Millisecond}
	})
	browser := brBrowser(t)
	shots := brShotDir(t)
	brIngest(t, addr, "show",
		brMsg("m-1", "asha", "how long is the shipping?"),
		brMsg("m-2", "meera", "agent please, refund for order 5521"))
	if code, body := call(t, "POST", "http://"+addr+"/v1/users/troll/ban", modSecret, `{"stream":"show","reason":"raid"}`); code != 200 {
		t.Fatalf("ban: %d %s", code, body)
	}

	brRun(t, browser, "open console", chromedp.Navigate("http://"+addr+"/moderator?stream=show&token="+modSecret))
	brWait(t, browser, 3*time.Second, `document.querySelector("#status").classList.contains("connected")`)
	brFollow(t, browser, `#tools-link`)
	brWait(t, browser, 5*time.Second, `location.pathname === "/moderator/tools" &&
		document.querySelectorAll("#drafts-body .item").length === 1 &&
		document.querySelector('#restricted-body .item[data-user="troll"]') &&
		document.querySelector("#restricted-body").textContent.includes("raid") &&
		document.querySelector("#kpis-body dl") &&
		(document.querySelector("#audit-body table")?.textContent || "").includes("ban")`)
	brWait(t, browser, 12*time.Second, `document.querySelectorAll("#dead-body .item").length === 1`)
	brShot(t, browser, shots, "moderator-tools", 1440, 1000)

	// Unban from the page.
	brRun(t, browser, "unban", chromedp.Click(chromedp.CSS(`#restricted-body button[data-unban="troll"]`)))
	brWait(t, browser, 3*time.Second, `!document.querySelector('#restricted-body .item[data-user="troll"]')`)
	if _, body := get(t, "http://"+addr+"/v1/users/restricted", modSecret); strings.Contains(body, "troll") {
		t.Errorf("still restricted after Unban: %s", body)
	}
	// Approve the draft from the page.
	brRun(t, browser, "approve draft", chromedp.Click(chromedp.CSS(`#drafts-body button[data-act="approve"]`)))
	brWait(t, browser, 7*time.Second, `document.querySelectorAll("#drafts-body .item").length === 0`)
	if _, body := get(t, "http://"+addr+"/v1/replies/drafts?stream=show&state=approved", modSecret); !strings.Contains(body, "shipping takes") {
		t.Errorf("draft not approved: %s", body)
	}
	// Retry the dead delivery: it is due again (and dies again, later).
	brRun(t, browser, "retry", chromedp.Click(chromedp.CSS(`#dead-body button[data-retry]`)))
	eventually(t, 5*time.Second, "the retry in the audit or outbox", func() bool {
		_, body := get(t, "http://"+addr+"/v1/audit?stream=&limit=50", modSecret)
		return strings.Contains(body, "unban")
	})
	// Hindi reaches the KPI names and the audit's columns.
	brRun(t, browser, "switch language", chromedp.Click(chromedp.CSS(`#lang`)))
	brWait(t, browser, 3*time.Second, `document.querySelector("#kpis-body dt").textContent === "पहला जवाब, माध्यिका / p90" &&
		document.querySelector("#audit-body th").textContent === "समय" && document.querySelector("h1").textContent === "औज़ार"`)
	brRun(t, browser, "switch back", chromedp.Click(chromedp.CSS(`#lang`)))
	// The audit filter.
	brRun(t, browser, "filter audit", chromedp.SetValue(chromedp.CSS(`#audit-user`), "troll"), chromedp.Click(chromedp.CSS(`#audit-refresh`)))
	brWait(t, browser, 3*time.Second, `(() => { const rows = document.querySelectorAll("#audit-body tr"); return rows.length === 3 &&
		Array.from(rows).slice(1).every(r => r.textContent.includes("troll")); })()`)
}

// brFollow opens the link that selector finds, as a click would (a poll
// cannot span the navigation a real click starts).
func brFollow(t *testing.T, ctx context.Context, selector string) {
	t.Helper()
	href := brEval[string](t, ctx, `document.querySelector(`+strconv.Quote(selector)+`).href`)
	if !strings.HasPrefix(href, "http://127.0.0.1:") {
		t.Fatalf("link %s = %q, want a link to this server", selector, href)
	}
	brRun(t, ctx, "follow "+selector, chromedp.Navigate(href))
}
