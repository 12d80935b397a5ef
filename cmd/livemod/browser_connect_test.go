package main

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/store"
)

// TestBrowserConsoleShowsConnectors: the console's header shows the
// stream's connector and its state, and a message the platform deleted
// for livemod carries the outcome on its row.
func TestBrowserConsoleShowsConnectors(t *testing.T) {
	helix := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/moderation/chat" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, `{"data":[{"message_id":"x","is_sent":true}]}`)
	})
	chat := newFakeTwitchChat(t)
	ta := runApp(t, t.TempDir(), func(c *config.Config) {
		c.Connect.Twitch = []config.Twitch{{Channel: "show", Stream: "show", Server: "irc://" + chat.ln.Addr().String(), Nick: "livemodbot",
			Token: "tok", ClientID: "cid", BroadcasterID: "1234", ModeratorID: "5678", API: helix.srv.URL}}
	})
	eventually(t, 10*time.Second, "connector joined", func() bool { return health(ta.App).Connected })
	browser := brBrowser(t)
	brRun(t, browser, "open console", chromedp.Navigate("http://"+ta.Addr()+"/moderator?stream=show&token="+modSecret))
	brWait(t, browser, 5*time.Second, `document.querySelector("#status").classList.contains("connected") &&
		[...document.querySelectorAll(".conns .status.connected")].some((e) => e.textContent.startsWith("twitch:show connected"))`)
	chat.lines <- privmsg("spam-9", "42", "spammer", "FREE followers at bit.ly/xyz <b>now</b>")
	brWait(t, browser, 10*time.Second, `(() => {
		const r = document.querySelector('#feed .row[data-id="spam-9"] .state');
		return r && r.textContent.includes("twitch hide: done");
	})()`)
	brShot(t, browser, brShotDir(t), "console-connectors", 1280, 720)
	if n := brEval[int](t, browser, `document.querySelectorAll("#feed b").length`); n != 0 {
		t.Fatalf("chat text rendered as HTML: %d <b> elements", n)
	}
	// An outcome that reaches the page before its message's decision (they
	// travel apart) shows on the row once the decision comes.
	ta.App.Desk.PlatformOutcome(store.Action{ID: "a-early", Kind: store.ActHide, Stream: "show", Platform: "twitch",
		Target: "early-1", State: store.ActionDone, Actor: "auto", Attempts: 1})
	brIngest(t, ta.Addr(), "show", msg("early-1", "viewer-9", "hello there", 0))
	brWait(t, browser, 10*time.Second, `(() => {
		const r = document.querySelector('#feed .row[data-id="early-1"] .state');
		return r && r.textContent.includes("twitch hide: done");
	})()`)
}
