package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/livemod/livemod/config"
)

// TestBrowserAppealsAndReviews: the tools page lists the open appeal and
// the sampled hide; overturning the appeal (with a reason) and marking the
// review wrong from the page reach the server.
func TestBrowserAppealsAndReviews(t *testing.T) {
	addr := startApp(t, func(c *config.Config) { c.Review.Share = 1 })
	browser := brBrowser(t)
	base := "http://" + addr
	brIngest(t, addr, "show", brMsg("m-1", "asha", "is the blue one in stock?"), brMsg("s-1", "bot", "FREE followers at bit.ly/xyz"))
	if code, body := call(t, "POST", base+"/v1/messages/m-1/hide", modSecret, `{"stream":"show","reason":"test"}`); code != 200 {
		t.Fatalf("hide: %d %s", code, body)
	}
	if code, body := call(t, "POST", base+"/v1/appeals", ingestSecret, `{"stream":"show","user":{"id":"asha"},"message_id":"m-1","text":"I only asked about stock"}`); code != 200 {
		t.Fatalf("appeal: %d %s", code, body)
	}
	brRun(t, browser, "open tools", chromedp.Navigate(base+"/moderator/tools?stream=show&token="+modSecret))
	brWait(t, browser, 7*time.Second, `document.querySelectorAll("#appeals-body .item").length === 1 &&
		document.querySelector("#appeals-body").textContent.includes("I only asked about stock") &&
		document.querySelectorAll("#reviews-body .item").length === 1 &&
		document.querySelector("#reviews-body").textContent.includes("bit.ly") &&
		!!document.querySelector("#kpis-body svg.series rect")`)
	// The reason comes from a prompt: answer it as a moderator would.
	brEval[bool](t, browser, `(window.prompt = () => "a fair question", true)`)
	brRun(t, browser, "overturn", chromedp.Click(chromedp.CSS(`#appeals-body button[data-act="overturn"]`)))
	brWait(t, browser, 7*time.Second, `document.querySelectorAll("#appeals-body .item").length === 0`)
	brRun(t, browser, "mark wrong", chromedp.Click(chromedp.CSS(`#reviews-body button[data-act="wrong"]`)))
	brWait(t, browser, 7*time.Second, `document.querySelectorAll("#reviews-body .item").length === 0`)
	if _, body := get(t, base+"/v1/appeals?stream=show", modSecret); !strings.Contains(body, `"state":"overturned"`) || !strings.Contains(body, "a fair question") {
		t.Errorf("appeal after the page's overturn: %s", body)
	}
	if _, body := get(t, base+"/v1/reviews?stream=show", modSecret); !strings.Contains(body, `"state":"wrong"`) {
		t.Errorf("review after the page's mark: %s", body)
	}
}
