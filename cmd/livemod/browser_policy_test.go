package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPolicyPage: the console's policy page shows the policy in
// force, previews a change on the stream's recent chat (chat shown as
// text), and saves it.
func TestBrowserPolicyPage(t *testing.T) {
	addr := brApp(t)
	browser := brBrowser(t)
	brCSP(t, addr, "/moderator/policy?stream=show", modSecret)
	brRefused(t, browser, addr, "/moderator/policy?stream=show", hostSecret)

	payload := `<img src=x onerror=window.__pwned=1> cheapfollows here`
	brIngest(t, addr, "show", brMsg("m-1", "asha", "hello everyone"), brMsg("m-2", "bot", payload), brMsg("m-3", "ravi", "how much is the blue jacket?"))
	// An ack means queued: wait until the three are decided and kept.
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, body := call(t, "POST", "http://"+addr+"/v1/streams/show/policy/try", modSecret, `{"policy":{},"minutes":5}`)
		if strings.Contains(body, `"messages":3`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recent messages not kept: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	brRun(t, browser, "open policy page", chromedp.Navigate("http://"+addr+"/moderator/policy?stream=show&token="+modSecret))
	brWait(t, browser, 3*time.Second, `document.querySelector("#effective").textContent.trim() === "{}"`)
	brRun(t, browser, "edit", chromedp.SetValue(chromedp.CSS("#doc"), `{"blocked":[{"term":"cheapfollows","reason":"follower sellers"}]}`))
	brRun(t, browser, "preview", chromedp.Click(chromedp.CSS("#try")))
	brWait(t, browser, 5*time.Second, `document.querySelector("#summary").textContent.includes("1 newly hidden")`)
	brWait(t, browser, time.Second, `document.querySelector("#rules").textContent.includes("policy.term:cheapfollows")`)
	brNoScriptRan(t, browser, "#rules", payload)
	if code, body := get(t, "http://"+addr+"/v1/streams/show/policy", modSecret); code != 200 || strings.Contains(body, "cheapfollows") {
		t.Fatalf("a preview changed the policy: %d %s", code, body)
	}
	brRun(t, browser, "save", chromedp.Click(chromedp.CSS("#save")))
	brWait(t, browser, 5*time.Second, `document.querySelector("#msg").textContent.startsWith("Saved")`)
	if code, body := get(t, "http://"+addr+"/v1/streams/show/policy", modSecret); code != 200 || !strings.Contains(body, "cheapfollows") {
		t.Fatalf("save: %d %s", code, body)
	}
}
