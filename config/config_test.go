package config

import (
	"errors"
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

// TestConfigProblems: every kind of mistake in livemod.yaml is reported in
// the user's words, with the key path and the line, and what is allowed.
func TestConfigProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"typo with suggestion", "ingest:\n  max_frame_byte: 1000\n",
			[]string{"line 2: ingest.max_frame_byte: unknown key in ingest; did you mean max_frame_bytes?", "Allowed: ack_delay, burst, dedup_max_ids, dedup_window, idle_timeout, max_frame_bytes"}},
		{"top-level typo", "listn: 127.0.0.1:1\n",
			[]string{"line 1: listn: unknown key in the top level; did you mean listen?"}},
		{"unknown key, nothing close", "ingest:\n  zzzzzzzzzz: 1\n",
			[]string{"ingest.zzzzzzzzzz: unknown key in ingest. Allowed:"}},
		{"duration without a unit", "classify:\n  repeat_window: 5\n",
			[]string{"line 2: classify.repeat_window: 5 is not a duration (a number with a unit: 30s"}},
		{"duration in words", "ingest:\n  ack_delay: five ms\n",
			[]string{`ingest.ack_delay: "five ms" is not a duration`}},
		{"fraction for a count", "classify:\n  repeat_count: 2.5\n",
			[]string{"line 2: classify.repeat_count: 2.5 is not a whole number"}},
		{"text for a number", "pipeline:\n  shards: many\n",
			[]string{`pipeline.shards: "many" is not a whole number`}},
		{"text for a float", "replies:\n  match_threshold: high\n",
			[]string{`replies.match_threshold: "high" is not a number (e.g. 0.75)`}},
		{"text for a bool", "pprof: maybe\n",
			[]string{`pprof: "maybe" is not true or false`}},
		{"negative", "pipeline:\n  queue_len: -1\n",
			[]string{"line 2: pipeline.queue_len: -1 is too small; use at least 1, or 0 for the default (256)"}},
		{"too small", "fanout:\n  max_queue_bytes: 10\n",
			[]string{"line 2: fanout.max_queue_bytes: 10 is too small; use at least 65536"}},
		{"copypasta of one user", "classify:\n  copypasta_users: 1\n",
			[]string{"classify.copypasta_users: 1 is too small; use at least 2, or 0 for the default (4)"}},
		{"too large", "ingest:\n  max_frame_bytes: 999999999\n",
			[]string{"ingest.max_frame_bytes: 999999999 is too large; use at most 16777216"}},
		{"negative duration", "replies:\n  cooldown: -5s\n",
			[]string{"replies.cooldown: -5s is too small; use at least 1s"}},
		{"section given a value", "handoff:\n  retry: 3\n",
			[]string{"handoff.retry: expected a section of keys (initial, max, max_attempts), got the value 3"}},
		{"list given a value", "faq: shipping\n",
			[]string{`faq: expected a list (one "- item" a line, or [a, b]), got the value "shipping"`}},
		{"value given a list", "listen: [a, b]\n",
			[]string{"listen: expected a single value (text), got a list"}},
		{"nested in a list", "faq:\n  - id: x\n    anwser: hi\n",
			[]string{"line 3: faq[0].anwser: unknown key in faq[0]; did you mean answer?"}},
		{"map value type", "classify:\n  thresholds: {spam: lots}\n",
			[]string{`classify.thresholds.spam: "lots" is not a number`}},
		{"score over 1", "classify:\n  thresholds: {spam: 1.5}\n",
			[]string{"line 2: classify.thresholds.spam: 1.5 is too large; use at most 1"}},
		{"key twice", "listen: a:1\nlisten: b:2\n",
			[]string{"line 2: listen: given twice (lines 1 and 2); keep one"}},
		{"not YAML", "ingest:\n  - a\n b: c\n",
			[]string{"not valid YAML"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			err := Parse([]byte(tc.yaml), &c)
			if err == nil {
				t.Fatalf("Parse(%q) accepted it", tc.yaml)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) =\n%v\nwant it to contain %q", tc.yaml, err, w)
				}
			}
			if strings.Contains(err.Error(), "unmarshal") || strings.Contains(err.Error(), "config.") {
				t.Errorf("error speaks Go: %v", err)
			}
		})
	}
}

// TestConfigEveryProblemAtOnce: one file with many mistakes gets them all
// in one error, one a line, in file order.
func TestConfigEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	c := Defaults()
	err := parse("livemod.yaml", []byte("ingest:\n  max_frame_byte: 1\n  ack_delay: 5\npipeline:\n  queue_len: -1\nclassify:\n  repeat_count: 2.5\n"), &c)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 4 {
		t.Fatalf("want 4 problems, got %v", err)
	}
	for i, line := range []int{2, 3, 5, 7} {
		if ps[i].Line != line || ps[i].File != "livemod.yaml" {
			t.Errorf("problem %d at %s:%d, want line %d", i, ps[i].File, ps[i].Line, line)
		}
	}
	if !strings.HasPrefix(err.Error(), "livemod.yaml:2: ingest.max_frame_byte:") {
		t.Errorf("first line = %q", strings.SplitN(err.Error(), "\n", 2)[0])
	}
}

// TestValidateRangesAndLines: values set in code are held to the same
// ranges; values from the file point at their line; values a flag set do
// not.
func TestValidateRangesAndLines(t *testing.T) {
	t.Parallel()
	c := Defaults()
	if err := parse("f.yaml", []byte("listen: 127.0.0.1:1\nfaq:\n  - id: a\n    match: [x]\n    answer: 'hi {nme}'\n"), &c); err != nil {
		t.Fatal(err)
	}
	c.Classify.CopypastaUsers = 1
	c.Pipeline.QueueLen = -3
	c.Listen = "0.0.0.0:1"
	c.Override("listen", "--listen")
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted it")
	}
	for _, w := range []string{
		"classify.copypasta_users: 1 is too small; use at least 2",
		"pipeline.queue_len: -3 is too small",
		"f.yaml:3: faq \"a\": answer: unknown token {nme}",
		"--listen 0.0.0.0:1 needs tokens", "or use --listen 127.0.0.1:1",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate =\n%v\nwant %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "f.yaml:1:") {
		t.Errorf("listen came from a flag but the error points at the file: %v", err)
	}
}

// TestConfigGoodValuesPass: the README's example and boundary values
// parse and validate.
func TestConfigGoodValuesPass(t *testing.T) {
	t.Parallel()
	c := Defaults()
	err := Parse([]byte(`
pprof: true
ingest: {max_frame_bytes: 1024, ack_delay: -1ms, rate_per_second: 1.5}
pipeline: {shards: 0, queue_len: 1}
fanout: {max_queue_bytes: 65536}
classify: {repeat_count: 2, copypasta_users: 2, repeat_window: 1s, thresholds: {spam: 0.9}}
handoff: {retry: {max_attempts: 1, initial: 1ms, max: 1h}}
`), &c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Ingest.AckDelay != -time.Millisecond || c.Classify.Thresholds["spam"] != 0.9 {
		t.Errorf("decoded %+v", c)
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	allowed := []string{"max_frame_bytes", "max_messages_per_frame", "ack_delay", "burst"}
	for in, want := range map[string]string{
		"max_frame_byte": "max_frame_bytes", "maxframebytes": "max_frame_bytes", "max-frame-bytes": "max_frame_bytes",
		"ack_dealy": "ack_delay", "brust": "burst", "Burst": "burst", "colour": "",
	} {
		if got := suggest(in, allowed); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParse: no input makes the strict reader panic, and whatever it
// accepts the YAML decoder accepts too.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"listen: 127.0.0.1:8080\n", "ingest:\n  max_frame_byte: 1\n", "classify: {repeat_count: 2.5}\n",
		"faq:\n  - id: a\n    match: [x]\n    answer: hi\n", "a: &x {b: 1}\nc: *x\n", "- 1\n- 2\n", "pprof: yes\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := Defaults()
		if err := Parse(b, &c); err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

// TestCopypastaThresholds: the copypasta thresholds, global and per
// stream, parse; nonsense values are reported with their key.
func TestCopypastaThresholds(t *testing.T) {
	t.Parallel()
	c := Defaults()
	err := Parse([]byte(`
classify:
  copypasta_min_length: 40
  copypasta_streams:
    launch: {min_length: 30, users: 6, window: 2m}
`), &c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if p := c.Classify.CopypastaStreams["launch"]; c.Classify.CopypastaMinLength != 40 || p.MinLength != 30 || p.Users != 6 || p.Window != 2*time.Minute {
		t.Errorf("parsed %+v", c.Classify)
	}
	c = Defaults()
	err = Parse([]byte(`
classify:
  copypasta_min_length: -3
  copypasta_streams:
    x: {users: 1}
`), &c)
	if err == nil {
		err = c.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), "classify.copypasta_min_length: -3 is too small") || !strings.Contains(err.Error(), "classify.copypasta_streams.x.users: 1 is too small") {
		t.Errorf("problems: %v", err)
	}
}

func TestPolicySection(t *testing.T) {
	c := Defaults()
	err := Parse([]byte(`
policy:
  default:
    caps: {max_ratio: 0.7, min_length: 15, action: hide}
    blocked: [{term: cheapfollows}]
    escalation: {offences: 3, window: 10m, seconds: 600}
  streams:
    show-b: {caps: {max_ratio: 0.9}}
`), &c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if *c.Policy.Streams["show-b"].Caps.MaxRatio != 0.9 || len(c.Policy.Default.Blocked) != 1 {
		t.Fatalf("%+v", c.Policy)
	}
	c = Defaults()
	if err := Parse([]byte("policy:\n  default:\n    caps: {max_ratio: 2}\n    sensitivity: 9\n"), &c); err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "line 3: policy.default.caps.max_ratio") || !strings.Contains(err.Error(), "line 4: policy.default.sensitivity") {
		t.Fatalf("every problem with its key and line: %v", err)
	}
}

func TestEscalationConfig(t *testing.T) {
	t.Parallel()
	c := Defaults()
	err := Parse([]byte(`
handoff:
  escalation: {negative_threshold: 0.6, window: 5, window_negative: 3}
  escalation_streams:
    launch: {negative_threshold: 0.8}
    quiet: {off: true}
  vip_users: [star]
  vip_badges: [partner]
  rating_request: "{author_name}, rate us 1 to 5"
`), &c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	h := c.Handoff
	if h.Escalation.NegativeThreshold != 0.6 || h.Escalation.Window != 5 || h.EscalationStreams["launch"].NegativeThreshold != 0.8 ||
		!h.EscalationStreams["quiet"].Off || h.VIPUsers[0] != "star" || h.VIPBadges[0] != "partner" || h.RatingRequest == "" {
		t.Errorf("parsed %+v", h)
	}
	c = Defaults()
	err = Parse([]byte(`
handoff:
  escalation: {negative_threshold: 1.5, window: 9}
`), &c)
	if err == nil {
		err = c.Validate()
	}
	for _, want := range []string{"handoff.escalation.negative_threshold", "handoff.escalation.window"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems %v: want one about %s", err, want)
		}
	}
	c = Defaults()
	if err := Parse([]byte(`
handoff:
  rating_request: "{nope}"
`), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "handoff.rating_request") {
		t.Errorf("rating_request with an unknown placeholder: %v", err)
	}
}
