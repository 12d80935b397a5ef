package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseAndValidate(t *testing.T) {
	t.Parallel()
	c := Defaults()
	err := Parse([]byte(`
listen: 127.0.0.1:9090
auth:
  tokens:
    - {name: ops, role: admin, secret: "change-me-now"}
ingest:
  ack_delay: 2ms
faq:
  - id: shipping
    match: ["shipping", "kab tak", "कब तक"]
    answer: "{author_name}, shipping is free over ₹999."
`), &c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9090" || len(c.Auth.Tokens) != 1 || c.FAQ[0].Match[2] != "कब तक" {
		t.Errorf("parsed %+v", c)
	}
	if c.Replies.Prefix != "Automated reply:" {
		t.Errorf("defaults lost: prefix %q", c.Replies.Prefix)
	}
	if c.Ingest.AckDelay != 2*time.Millisecond {
		t.Errorf("ingest.ack_delay = %v, want 2ms", c.Ingest.AckDelay)
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	t.Parallel()
	c := Defaults()
	if err := Parse([]byte("listn: 127.0.0.1:1\n"), &c); err == nil || !strings.Contains(err.Error(), "listn") {
		t.Fatalf("Parse with a typo = %v, want an error naming the key", err)
	}
}

// TestValidateReportsEverything: every problem at once, each with its key.
func TestValidateReportsEverything(t *testing.T) {
	t.Parallel()
	c := Defaults()
	c.Listen = "0.0.0.0:8080"
	c.FAQ = []FAQ{{ID: "x", Match: []string{"a"}, Answer: "hi {name}"}, {ID: "x", Answer: "ok"}}
	c.Handoff.Summary = "order {order_id"
	c.Ingest.AckDelay = time.Minute
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, want := range []string{
		"listen 0.0.0.0:8080 needs tokens", "--listen 127.0.0.1:8080",
		`faq "x": answer: unknown token {name}`, `"x" is used twice`, `faq "x": match is empty`,
		"handoff.summary: unclosed", "ingest.ack_delay: 1m0s is too long",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
}

func TestApplyEnv(t *testing.T) {
	t.Parallel()
	c := Defaults()
	env := map[string]string{"LIVEMOD_TOKENS": "admin=secret-one, ingest=secret-two", "LIVEMOD_LISTEN": "127.0.0.1:1"}
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if len(c.Auth.Tokens) != 2 || c.Auth.Tokens[1].Role != "ingest" || c.Listen != "127.0.0.1:1" {
		t.Errorf("after env: %+v", c)
	}
	env["LIVEMOD_TOKENS"] = "admin"
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("bad LIVEMOD_TOKENS accepted")
	}
}
