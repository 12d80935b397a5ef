package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/policy"
	"go.yaml.in/yaml/v3"
)

// Config is the whole file. The zero value plus Defaults is a working
// single-machine setup.
type Config struct {
	Listen string `yaml:"listen"`
	Data   string `yaml:"data"`
	Redis  string `yaml:"redis"`
	// Cluster names this node among the nodes sharing Redis (with redis).
	Cluster  Cluster  `yaml:"cluster"`
	Auth     Auth     `yaml:"auth"`
	HTTP     HTTP     `yaml:"http"`
	Ingest   Ingest   `yaml:"ingest"`
	Pipeline Pipeline `yaml:"pipeline"`
	Fanout   Fanout   `yaml:"fanout"`
	Classify Classify `yaml:"classify"`
	Replies  Replies  `yaml:"replies"`
	FAQ      []FAQ    `yaml:"faq"`
	Handoff  Handoff  `yaml:"handoff"`
	// Review is the quality-review sampling of automatic decisions.
	Review Review `yaml:"review"`
	// Retention is how long each kind of record is kept.
	Retention Retention `yaml:"retention"`
	// Policy is the channels' own rules: a default for every stream and
	// per-stream overrides (docs/POLICY.md). SIGHUP reloads it.
	Policy policy.Config `yaml:"policy"`
	// Connect lists the platform connectors (connect.go).
	Connect Connect `yaml:"connect"`
	// Origins are extra browser origins allowed to open websockets
	// (patterns as in path.Match, e.g. "obs.example.com"). Empty means
	// same origin only.
	Origins []string `yaml:"origins"`
	// Pprof serves Go profiles at /debug/pprof/ to admin tokens.
	Pprof bool `yaml:"pprof"`
	// TLS serves HTTPS (and wss://) directly. Empty means plain HTTP, for
	// loopback or behind a TLS-terminating proxy.
	TLS TLS `yaml:"tls"`

	src   string            // the file read, for messages
	lines map[string]int    // key path → line in src, for messages
	from  map[string]string // key path → the flag or variable that set it
}

// Cluster is this node's place among several sharing one Redis
// (docs/SCALING.md).
type Cluster struct {
	// Node is this node's id, unique among the nodes; empty means the
	// host name and a random suffix. Also LIVEMOD_NODE.
	Node string `yaml:"node"`
	// Advertise is the URL the other nodes reach this one at, for the
	// REST calls a node hands to the owner of a stream; empty means
	// http:// (https:// with tls) and the listen address.
	Advertise string `yaml:"advertise"`
	// LeaseTTL is how long a node owns a stream without renewing: after a
	// node dies its streams move to another within this time. Zero means 10s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// TLS names a certificate and its key, PEM files (also --tls-cert and
// --tls-key). Both or neither.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Auth holds the tokens. Every endpoint but /healthz needs one.
type Auth struct {
	Tokens []auth.Token `yaml:"tokens"`
}

// HTTP limits every connection to the server: a client that holds a
// connection without finishing a request, or idles on a keep-alive, is
// cut off.
type HTTP struct {
	// ReadHeaderTimeout bounds reading a request's headers. Zero means 5s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" check:"min=100ms,max=1h,default=5s"`
	// ReadTimeout bounds reading a whole request, body included; a
	// websocket is exempt once upgraded (ingest.idle_timeout and the
	// subscribers' pings bound those). Zero means 30s.
	ReadTimeout time.Duration `yaml:"read_timeout" check:"min=100ms,max=1h,default=30s"`
	// IdleTimeout closes a keep-alive connection with no request for
	// this long. Zero means 30s.
	IdleTimeout time.Duration `yaml:"idle_timeout" check:"min=100ms,max=1h,default=30s"`
	// MaxBodyBytes bounds a request body; a larger one is answered 413.
	// Zero means 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes" check:"min=1024,max=67108864,default=1048576"`
}

// The HTTP limits' defaults (HTTP's zero values).
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 30 * time.Second
)

// WithDefaults returns h with its zero values replaced by the defaults.
func (h HTTP) WithDefaults() HTTP {
	if h.ReadHeaderTimeout == 0 {
		h.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if h.ReadTimeout == 0 {
		h.ReadTimeout = DefaultReadTimeout
	}
	if h.IdleTimeout == 0 {
		h.IdleTimeout = DefaultIdleTimeout
	}
	if h.MaxBodyBytes == 0 {
		h.MaxBodyBytes = auth.DefaultMaxBodyBytes
	}
	return h
}

// Ingest limits what one ingest connection may send.
type Ingest struct {
	MaxFrameBytes       int     `yaml:"max_frame_bytes" check:"min=1024,max=16777216,default=65536"` // zero means 64 KiB
	MaxMessagesPerFrame int     `yaml:"max_messages_per_frame" check:"min=1,max=65536,default=1024"` // zero means 1024
	RatePerSecond       float64 `yaml:"rate_per_second" check:"min=1,default=50000"`                 // zero means 50,000
	Burst               int     `yaml:"burst" check:"min=1,default=2 × rate_per_second"`             // zero means 2 × rate
	// AckDelay is how long acks are gathered before one is written (it
	// answers every frame decided meanwhile); while the client keeps
	// sending, until it has been quiet this long, at most 4 × AckDelay.
	// Zero means 5ms; negative acks each frame at once, for a client that
	// waits for every ack.
	AckDelay time.Duration `yaml:"ack_delay"`
	// IdleTimeout closes a connection that sends no frame for this long
	// (policy close, reason "idle"). Zero means 5m; negative never.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// DedupWindow is how long a taken message's (stream, id) is
	// remembered: a resend within it is acknowledged, not decided again
	// (livemod_ingest_duplicates_total). Zero means 10m; negative turns
	// it off.
	DedupWindow time.Duration `yaml:"dedup_window"`
	// DedupMaxIDs bounds the ids remembered (16 bytes each); past it the
	// window shortens (livemod_ingest_dedup_full_total). Zero means
	// 1,048,576.
	DedupMaxIDs int `yaml:"dedup_max_ids" check:"min=1024,max=67108864,default=1048576"`
}

// Pipeline sizes the sharded classify stage.
type Pipeline struct {
	Shards   int `yaml:"shards" check:"min=1,max=1024,default=one per core"` // zero means the next power of two ≥ GOMAXPROCS
	QueueLen int `yaml:"queue_len" check:"min=1,max=65536,default=256"`      // batches per shard queue; zero means 256
}

// Fanout bounds what may wait for one subscriber.
type Fanout struct {
	// MaxQueueBytes: over it the subscriber is disconnected. A decision
	// line is about 500 bytes and a snapshot several kilobytes, so less
	// than 64 KiB would disconnect every subscriber at once. Zero means 8 MiB.
	MaxQueueBytes int `yaml:"max_queue_bytes" check:"min=65536,default=8388608"`
	// WriteTimeout: a subscriber whose write stalls this long is closed
	// as slow (1008). Zero means 10s.
	WriteTimeout time.Duration `yaml:"write_timeout" check:"min=10ms,max=10m,default=10s"`
	// PingInterval is how often subscribers are pinged; one that does not
	// answer within PongTimeout is closed as slow (1008). Zero means 30s;
	// negative sends no pings.
	PingInterval time.Duration `yaml:"ping_interval"`
	PongTimeout  time.Duration `yaml:"pong_timeout" check:"min=10ms,max=10m,default=10s"` // zero means 10s
}

// Classify tunes dedup and flood detection.
type Classify struct {
	RepeatWindow    time.Duration `yaml:"repeat_window" check:"min=1s,default=30s"`    // zero means 30s
	RepeatCount     int           `yaml:"repeat_count" check:"min=2,default=3"`        // zero means 3; 1 would call every message a flood
	CopypastaWindow time.Duration `yaml:"copypasta_window" check:"min=1s,default=60s"` // zero means 60s
	CopypastaUsers  int           `yaml:"copypasta_users" check:"min=2,default=4"`     // zero means 4; 1 would call every message copypasta
	// CopypastaMinLength is the length (characters) from which the same
	// text from copypasta_users users is copypasta; shorter text is, only
	// when it also carries spam, a link, caps or a symbol flood. Short
	// reactions and questions from many are a crowd. Zero means 48.
	CopypastaMinLength int `yaml:"copypasta_min_length" check:"min=1,default=48"`
	// CopypastaStreams overrides the three copypasta thresholds per
	// stream id; a zero field keeps the value above.
	CopypastaStreams map[string]Copypasta `yaml:"copypasta_streams"`
	// Model is a model file written by livemod train; empty means the
	// model embedded in the binary, "none" the rules alone.
	Model string `yaml:"model"`
	// Thresholds are model scores (0–1] at which a label is given, by
	// label name (spam, toxic, question, purchase_intent, support);
	// missing labels keep classify.DefaultThresholds.
	Thresholds map[string]float32 `yaml:"thresholds" check:"min=0.0001,max=1"`
	// HideThresholds are spam scores at which the model alone hides;
	// below them model spam is held for a human.
	HideThresholds map[string]float32 `yaml:"hide_thresholds" check:"min=0.0001,max=1"`
}

// Copypasta is one stream's copypasta thresholds. Zero fields keep the
// classify section's values.
type Copypasta struct {
	MinLength int           `yaml:"min_length" check:"min=1,default=classify.copypasta_min_length"`
	Users     int           `yaml:"users" check:"min=2,default=classify.copypasta_users"` // 1 would call every message copypasta
	Window    time.Duration `yaml:"window" check:"min=1s,default=classify.copypasta_window"`
}

// Replies configure automated replies.
type Replies struct {
	Prefix         string `yaml:"prefix"`                                    // zero means "Automated reply:"
	PerUserPerHour int    `yaml:"per_user_per_hour" check:"min=1,default=3"` // zero means 3
	// Cooldown: the same FAQ is answered at most once per cooldown per
	// stream; askers in between are named together in the next answer.
	// Zero means 60s.
	Cooldown time.Duration `yaml:"cooldown" check:"min=1s,default=60s"`
	// MatchThreshold is the FAQ match score (0..1] needed. Zero means 0.75.
	MatchThreshold float64 `yaml:"match_threshold" check:"min=0.0001,max=1,default=0.75"`
}

// FAQ is one automated answer.
type FAQ struct {
	ID      string   `yaml:"id"`
	Match   []string `yaml:"match"`
	Answer  string   `yaml:"answer"`
	Approve bool     `yaml:"approve"`
	Product string   `yaml:"product"` // what {product_name} says; empty means "our products"
}

// Handoff configures agent handoffs.
type Handoff struct {
	PublicNotice string `yaml:"public_notice"`
	Summary      string `yaml:"summary"`
	Webhook      string `yaml:"webhook"`
	// WebhookSecret keys the HMAC-SHA256 signature of each POST
	// (X-Livemod-Signature: sha256=HEX). Required with webhook.
	WebhookSecret string `yaml:"webhook_secret"`
	// PurchaseIntent makes purchase_intent open tickets too.
	PurchaseIntent bool         `yaml:"purchase_intent"`
	Retry          WebhookRetry `yaml:"retry"`
	// Escalation opens a "complaint" ticket on negative sentiment about an
	// order, or a user negative over a window; EscalationStreams overrides
	// it per stream id (a zero field keeps the value of escalation).
	Escalation        Escalation            `yaml:"escalation"`
	EscalationStreams map[string]Escalation `yaml:"escalation_streams"`
	// VIPUsers (user ids or names) and VIPBadges (platform badges; empty
	// means partner, verified, vip, team, creator) send messages that need
	// an answer to an agent rather than to the FAQ bot.
	VIPUsers  []string `yaml:"vip_users"`
	VIPBadges []string `yaml:"vip_badges"`
	// RatingRequest is the one-question satisfaction request sent when an
	// agent resolves a ticket (disclosed with the replies prefix, never to
	// a user who sent STOP); empty sends none.
	RatingRequest string `yaml:"rating_request"`
	// MaxOpenPerStream and MaxOpen bound the open (unclaimed) tickets of
	// one stream and of all: over a bound, the longest idle open tickets
	// are resolved by "system" with a reason the agent sees. IdleClose
	// resolves an open ticket with no new line from its user for that
	// long. Claimed tickets are never closed by these, nor counted.
	MaxOpenPerStream int           `yaml:"max_open_per_stream" check:"min=1,max=10000000,default=10000"`
	MaxOpen          int           `yaml:"max_open" check:"min=1,max=10000000,default=50000"`
	IdleClose        time.Duration `yaml:"idle_close" check:"min=1m,max=8760h,default=2h"`
}

// Escalation is when negative sentiment opens a complaint ticket.
type Escalation struct {
	// NegativeThreshold is the model's negative score from which a message
	// about a purchase or an order opens a ticket. Zero means 0.5.
	NegativeThreshold float32 `yaml:"negative_threshold" check:"min=0.0001,max=1"`
	// Window is how many of a user's latest messages are weighed, and
	// WindowNegative how many of them negative open a ticket whatever
	// they are about. Zero means 4 and 3.
	Window         int  `yaml:"window" check:"min=1,max=8"`
	WindowNegative int  `yaml:"window_negative" check:"min=1,max=8"`
	Off            bool `yaml:"off"`
}

// WebhookRetry paces webhook deliveries that failed.
type WebhookRetry struct {
	MaxAttempts int           `yaml:"max_attempts" check:"min=1,default=8"` // then dead-lettered; zero means 8
	Initial     time.Duration `yaml:"initial" check:"min=1ms,default=1s"`   // first backoff; zero means 1s
	Max         time.Duration `yaml:"max" check:"min=1ms,default=5m"`       // backoff ceiling; zero means 5m
}

// Review samples a share of automatic hides, holds and replies,
// stratified by rule, into the moderators' review queue.
type Review struct {
	Share float64 `yaml:"share" check:"min=0,max=1,default=0.05"` // zero means 5%
}

// Retention is how long each kind of record is kept before the
// background purge removes it; zero means the default. Support covers
// tickets and their messages, webhook deliveries, decided appeals and the
// audit log as a whole; Chat the detail (user, reason) of the audit
// entries of ordinary chat decisions.
type Retention struct {
	Support  time.Duration `yaml:"support" check:"min=1h,default=8760h"`  // 12 months
	Chat     time.Duration `yaml:"chat" check:"min=1h,default=4380h"`     // 6 months
	Labels   time.Duration `yaml:"labels" check:"min=1h,default=8760h"`   // moderators' labeled examples
	OptOuts  time.Duration `yaml:"optouts" check:"min=1h,default=17520h"` // viewers' STOP and START: 24 months
	Interval time.Duration `yaml:"interval" check:"min=1s,default=1h"`    // how often the purge runs
}

// Defaults returns the configuration livemod runs with when nothing is set.
func Defaults() Config {
	return Config{
		Listen:  "127.0.0.1:8080",
		Data:    "./livemod-data",
		Replies: Replies{Prefix: "Automated reply:", PerUserPerHour: 3},
		Handoff: Handoff{
			PublicNotice: "{author_name}, an agent will message you privately.",
			Summary:      "Transferring to agent. Summary: order {order_id}, issue: {issue}.",
		},
	}
}

// Load reads path over the defaults (an empty path means defaults only),
// then applies the environment (LIVEMOD_TOKENS, LIVEMOD_LISTEN,
// LIVEMOD_REDIS, LIVEMOD_DATA). Unknown keys are errors, so a typo does
// not silently fall back to a default.
func Load(path string) (Config, error) {
	c := Defaults()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			msg := err.Error()
			var pe *os.PathError
			if errors.As(err, &pe) {
				msg = pe.Err.Error()
			}
			return c, Problems{{File: path, Msg: "cannot read it: " + msg + "; check the --config path"}}
		}
		if err := parse(path, b, &c); err != nil {
			return c, err
		}
	}
	if err := c.ApplyEnv(os.Getenv); err != nil {
		return c, err
	}
	return c, nil
}

// Parse decodes YAML from b over c. Unknown keys, values of the wrong
// type and numbers out of range are errors (Problems, every one at once,
// each with its key path and line), so a typo never falls back to a
// default in silence.
func Parse(b []byte, c *Config) error { return parse("", b, c) }

func parse(file string, b []byte, c *Config) error {
	c.src = file
	if c.lines == nil {
		c.lines = map[string]int{}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return yamlProblems(file, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil // an empty file: the defaults
	}
	doc := root.Content[0]
	ck := &checker{file: file, lines: c.lines}
	ck.walk(doc, reflect.TypeOf(*c), "", "")
	if len(ck.probs) > 0 {
		return ck.probs
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return yamlProblems(file, err)
	}
	return nil
}

// Override tells messages that key's value no longer comes from the file
// but from source (a flag such as --listen, or a variable such as
// LIVEMOD_LISTEN), so they name the source rather than a line.
func (c *Config) Override(key, source string) {
	delete(c.lines, key)
	if c.from == nil {
		c.from = map[string]string{}
	}
	c.from[key] = source
}

// ApplyEnv applies the LIVEMOD_* variables that getenv returns.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if v := getenv("LIVEMOD_LISTEN"); v != "" {
		c.Listen = v
		c.Override("listen", "LIVEMOD_LISTEN")
	}
	if v := getenv("LIVEMOD_REDIS"); v != "" {
		c.Redis = v
		c.Override("redis", "LIVEMOD_REDIS")
	}
	if v := getenv("LIVEMOD_NODE"); v != "" {
		c.Cluster.Node = v
		c.Override("cluster.node", "LIVEMOD_NODE")
	}
	if v := getenv("LIVEMOD_ADVERTISE"); v != "" {
		c.Cluster.Advertise = v
		c.Override("cluster.advertise", "LIVEMOD_ADVERTISE")
	}
	if v := getenv("LIVEMOD_DATA"); v != "" {
		c.Data = v
		c.Override("data", "LIVEMOD_DATA")
	}
	if v := getenv("LIVEMOD_TOKENS"); v != "" {
		for _, part := range strings.Split(v, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			t, err := auth.ParseToken(part)
			if err != nil {
				return fmt.Errorf("LIVEMOD_TOKENS: %w", err)
			}
			c.Auth.Tokens = append(c.Auth.Tokens, t)
		}
	}
	return nil
}

// Validate reports every problem at once, each with its key and a fix.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if msg := checkListen(c.Listen); msg != "" {
		add("listen %q: %s", c.Listen, msg)
	} else if len(c.Auth.Tokens) == 0 && !auth.IsLoopback(c.Listen) {
		_, port, _ := net.SplitHostPort(c.Listen)
		add("listen %s needs tokens: set auth.tokens in livemod.yaml, pass --token ROLE=SECRET or LIVEMOD_TOKENS, or use --listen 127.0.0.1:%s", c.Listen, port)
	}
	names := map[string]int{}
	for i, t := range c.Auth.Tokens {
		if t.Name == "" {
			c.Auth.Tokens[i].Name = string(t.Role)
			if len(t.Streams) > 0 {
				c.Auth.Tokens[i].Name = string(t.Role) + ":" + strings.Join(t.Streams, "+")
			}
			t.Name = c.Auth.Tokens[i].Name
		}
		if err := t.Validate(); err != nil {
			add("auth.tokens[%d]: %v", i, err)
		}
		if j, dup := names[t.Name]; dup {
			add("auth.tokens[%d]: name %q is also auth.tokens[%d]'s; give each token its own name (the audit log shows it as the actor)", i, t.Name, j)
		} else {
			names[t.Name] = i
		}
	}
	checkValues(reflect.ValueOf(c).Elem(), "", "", func(key, msg string) { add("%s: %s", key, msg) })
	if c.Ingest.AckDelay > time.Second {
		add("ingest.ack_delay: %v is too long; use 0 (5ms) up to 1s, or a negative value to ack each frame at once", c.Ingest.AckDelay)
	}
	if c.Ingest.DedupWindow > 24*time.Hour {
		add("ingest.dedup_window: %v is too long; use 0 (10m) up to 24h, or a negative value to turn it off", c.Ingest.DedupWindow)
	}
	if c.Redis != "" && !strings.HasPrefix(c.Redis, "redis://") && !strings.HasPrefix(c.Redis, "rediss://") {
		add("redis: %q is not a redis:// URL; e.g. redis://127.0.0.1:6379/0", c.Redis)
	}
	if c.Redis == "" && (c.Cluster.Node != "" || c.Cluster.Advertise != "") {
		add("cluster: set without redis; a cluster's nodes share one Redis (--redis redis://host:6379/0)")
	}
	if n := c.Cluster.Node; n != "" && (len(n) > 64 || strings.ContainsAny(n, " \t\n:/{}")) {
		add("cluster.node: %q: use at most 64 characters without spaces, ':', '/' or braces", n)
	}
	if a := c.Cluster.Advertise; a != "" && !strings.HasPrefix(a, "http://") && !strings.HasPrefix(a, "https://") {
		add("cluster.advertise: %q is not an http:// or https:// URL", a)
	}
	if c.Cluster.LeaseTTL != 0 && (c.Cluster.LeaseTTL < time.Second || c.Cluster.LeaseTTL > 5*time.Minute) {
		add("cluster.lease_ttl: %v: use 1s to 5m (0: 10s)", c.Cluster.LeaseTTL)
	}
	for id := range c.Classify.CopypastaStreams {
		if strings.TrimSpace(id) == "" {
			add("classify.copypasta_streams: an empty stream id; key each entry by its stream id")
		}
	}
	seen := map[string]bool{}
	for i, f := range c.FAQ {
		switch {
		case f.ID == "":
			add("faq[%d].id: empty; give each entry a short id such as shipping", i)
		case seen[f.ID]:
			add("faq[%d].id: %q is used twice", i, f.ID)
		}
		seen[f.ID] = true
		if len(f.Match) == 0 {
			add("faq %q: match is empty; list phrases that ask this question", f.ID)
		}
		if strings.TrimSpace(f.Answer) == "" {
			add("faq %q: answer is empty", f.ID)
		}
		if err := classify.ValidateTemplate(f.Answer); err != nil {
			add("faq %q: answer: %v", f.ID, err)
		}
	}
	for id := range c.Handoff.EscalationStreams {
		if strings.TrimSpace(id) == "" {
			add("handoff.escalation_streams: an empty stream id; key each entry by its stream id")
		}
	}
	if err := classify.ValidateTemplate(c.Handoff.RatingRequest); err != nil {
		add("handoff.rating_request: %v", err)
	}
	if err := classify.ValidateTemplate(c.Handoff.PublicNotice); err != nil {
		add("handoff.public_notice: %v", err)
	}
	if err := classify.ValidateTemplate(c.Handoff.Summary); err != nil {
		add("handoff.summary: %v", err)
	}
	if c.Replies.MatchThreshold < 0 || c.Replies.MatchThreshold > 1 {
		add("replies.match_threshold: %v is out of range; use 0 (0.75) up to 1", c.Replies.MatchThreshold)
	}
	if c.Handoff.Webhook != "" {
		if !strings.HasPrefix(c.Handoff.Webhook, "http://") && !strings.HasPrefix(c.Handoff.Webhook, "https://") {
			add("handoff.webhook: %q is not an http(s) URL; e.g. https://crm.example.com/livemod", c.Handoff.Webhook)
		}
		if len(c.Handoff.WebhookSecret) < 16 {
			add("handoff.webhook_secret: set a secret of at least 16 characters; the CRM checks X-Livemod-Signature with it")
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		add("tls: give both cert and key (--tls-cert FILE --tls-key FILE), or neither for plain HTTP")
	}
	errs = append(errs, c.Policy.Problems("policy")...)
	c.Connect.validate(add)
	return c.located(errs)
}

// checkListen says what is wrong with a listen address, or "".
func checkListen(addr string) string {
	if addr == "" {
		return "empty; use host:port, such as 127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if _, perr := strconv.Atoi(addr); perr == nil {
			return "want host:port, not only a port; such as 127.0.0.1:" + addr
		}
		return "want host:port, such as 127.0.0.1:8080 (or :8080 for every interface, which needs tokens)"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port %q is not a number from 0 to 65535; such as %s:8080", port, hostOr(host))
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Sprintf("host %q is not a host name or IP address; such as 127.0.0.1:%s", host, port)
	}
	return ""
}

func hostOr(h string) string {
	if h == "" {
		return "127.0.0.1"
	}
	return h
}

// located turns Validate's messages (each starting with its key path)
// into Problems that point at the key's line in the file, when the value
// came from one.
func (c *Config) located(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	ps := make(Problems, len(errs))
	for i, err := range errs {
		msg := err.Error()
		key := leadingKey(msg)
		ps[i] = Problem{File: c.src, Line: c.lineOf(key), Msg: msg}
		if ps[i].Line == 0 {
			ps[i].File = ""
			if src := c.from[key]; src != "" { // a flag or a variable set it: name that
				ps[i].Msg = src + strings.TrimPrefix(msg, key)
			}
		}
	}
	return ps
}

// leadingKey is the key path a Validate message starts with:
// "faq[1].id: …" → faq[1].id, `faq "x": …` → faq, "listen x needs …" → listen.
func leadingKey(msg string) string {
	end := strings.IndexAny(msg, ": ")
	if end < 0 {
		return msg
	}
	return msg[:end]
}

// lineOf finds key's line, or its closest enclosing section's.
func (c *Config) lineOf(key string) int {
	for key != "" {
		if l, ok := c.lines[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}
