package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserBidiControlsShown: a message with a right-to-left override
// ("\u202emoc.live", which a browser shows as "evil.com") appears in the
// console with the override as a visible marker, in an element isolated
// with unicode-bidi, so the text reads as it was sent.
func TestBrowserBidiControlsShown(t *testing.T) {
	addr := brApp(t)
	browser := brBrowser(t)
	brRun(t, browser, "open console", chromedp.Navigate("http://"+addr+"/moderator?stream=bidi&token="+modSecret))
	brWait(t, browser, 3*time.Second, `document.querySelector("#status").classList.contains("connected")`)
	brIngest(t, addr, "bidi",
		brMsg("b-1", "mallory\u202e", "visit \u202emoc.live\u202c now"),
		brMsg("b-2", "asha", "नमस्ते \u2067مرحبا\u2069 friends"))
	brWait(t, browser, 3*time.Second, `document.querySelectorAll("#feed .row").length === 2`)
	text := brEval[string](t, browser, `document.querySelector('#feed .row[data-id="b-1"] .text').textContent`)
	if text != "visit ⟨RLO⟩moc.live⟨PDF⟩ now" {
		t.Errorf("row text %q, want the override and its end shown as markers", text)
	}
	who := brEval[string](t, browser, `document.querySelector('#feed .row[data-id="b-1"] .who').textContent`)
	if who != "mallory⟨RLO⟩" {
		t.Errorf("name %q, want the override shown", who)
	}
	if got := brEval[string](t, browser, `document.querySelector('#feed .row[data-id="b-2"] .text').textContent`); got != "नमस्ते ⟨RLI⟩مرحبا⟨PDI⟩ friends" {
		t.Errorf("row text %q", got)
	}
	if raw := brEval[int](t, browser, `[...document.querySelectorAll("#feed .row")].filter(r => /[\u202a-\u202e\u2066-\u2069]/.test(r.textContent)).length`); raw != 0 {
		t.Errorf("%d rows still hold bidirectional controls", raw)
	}
	if iso := brEval[string](t, browser, `getComputedStyle(document.querySelector('#feed .row[data-id="b-1"] .text')).unicodeBidi`); iso != "isolate" {
		t.Errorf("chat text unicode-bidi = %q, want isolate", iso)
	}
}
