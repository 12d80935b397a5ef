package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livemod/livemod/store"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
)

// TwitchOptions configure one Twitch channel (a connect.twitch entry).
// Every zero value means its documented default.
type TwitchOptions struct {
	Channel string // the channel's login, without '#'; required
	Stream  string // the livemod stream it feeds; empty means Channel
	// Server is where to read chat. Empty means
	// wss://irc-ws.chat.twitch.tv:443; irc://host:port reads any RFC 2812
	// server.
	Server string
	// Nick is the IRC nick. Empty means an anonymous justinfanNNNN
	// (read-only) without Token, and is required with it.
	Nick string
	// Token is a user access token (without "oauth:") with the scopes
	// chat:read, moderator:manage:chat_messages,
	// moderator:manage:banned_users and user:write:chat. Empty means read
	// only: no action reaches Twitch.
	Token         string
	ClientID      string // the token's application
	BroadcasterID string // the channel's user id
	ModeratorID   string // the token's user id (acts and sends replies)
	// RefreshToken and ClientSecret let the token be refreshed when
	// Twitch says it expired (with TokenURL; empty means Twitch's).
	RefreshToken, ClientSecret, TokenURL string
	// API is Helix's base URL. Empty means https://api.twitch.tv/helix.
	API string
	// EventSub reads chat over EventSub (channel.chat.message) instead of
	// IRC; it needs Token, ClientID, BroadcasterID and ModeratorID.
	// EventSubURL empty means wss://eventsub.wss.twitch.tv/ws.
	EventSub    bool
	EventSubURL string
	// DryRun logs the actions instead of calling Helix.
	DryRun bool
	// KeepAlive is how long a quiet connection waits before we PING;
	// twice that without a line reconnects. Zero means 60s.
	KeepAlive time.Duration
	// MinBackoff and MaxBackoff bound the wait before a reconnect. Zero
	// means 1s and 2m.
	MinBackoff, MaxBackoff time.Duration
	// ChatPer30s caps the replies sent in 30 seconds (Twitch allows 20
	// to a user who is not the channel's moderator, 100 to one who is).
	// Zero means 20.
	ChatPer30s int
	// Joins paces JOINs. Nil means the process-wide limiter of Twitch's
	// join limit (20 per 10 s), shared by every Twitch connector.
	Joins *rate.Limiter
	// Client makes the Helix calls. Nil means a client with a 10s timeout.
	Client *http.Client
	// Log receives one line per event worth telling an operator. Nil
	// drops them.
	Log func(string)
}

// Twitch is a Twitch channel's connector: it reads chat (IRC or EventSub)
// into a stream and acts through Helix. Create it with NewTwitch.
type Twitch struct {
	opts   TwitchOptions
	sink   Sink
	health health
	ids    recentIDs
	tokens oauth2.TokenSource
	chat   *rate.Limiter

	rmu   sync.Mutex
	reset time.Time // Helix's Ratelimit-Reset when Ratelimit-Remaining reached 0

	cancel context.CancelFunc
	done   chan struct{}
}

// ErrNoChannel is a Twitch entry without a channel.
var ErrNoChannel = errors.New("connect: twitch: channel is required")

// NewTwitch returns the connector of opts.Channel; Start starts reading.
func NewTwitch(opts TwitchOptions, sink Sink) (*Twitch, error) {
	opts.Channel = strings.ToLower(strings.TrimPrefix(opts.Channel, "#"))
	if opts.Channel == "" {
		return nil, ErrNoChannel
	}
	if opts.Stream == "" {
		opts.Stream = opts.Channel
	}
	if opts.Server == "" {
		opts.Server = "wss://irc-ws.chat.twitch.tv:443"
	}
	if opts.API == "" {
		opts.API = "https://api.twitch.tv/helix"
	}
	opts.API = strings.TrimRight(opts.API, "/")
	if opts.EventSubURL == "" {
		opts.EventSubURL = "wss://eventsub.wss.twitch.tv/ws"
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 60 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 2 * time.Minute
	}
	if opts.ChatPer30s <= 0 {
		opts.ChatPer30s = 20
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Joins == nil {
		opts.Joins = twitchJoins
	}
	if opts.Token != "" && (opts.ClientID == "" || opts.BroadcasterID == "" || opts.ModeratorID == "") {
		return nil, fmt.Errorf("connect: twitch %s: a token needs client_id, broadcaster_id and moderator_id to act through Helix", opts.Channel)
	}
	if opts.EventSub && opts.Token == "" {
		return nil, fmt.Errorf("connect: twitch %s: eventsub needs a token; remove eventsub to read over IRC anonymously", opts.Channel)
	}
	t := &Twitch{opts: opts, sink: sink, done: make(chan struct{}),
		chat: rate.NewLimiter(rate.Limit(float64(opts.ChatPer30s)/30), opts.ChatPer30s)}
	reader := "irc"
	if opts.EventSub {
		reader = "eventsub"
	}
	t.health.s = HealthState{Name: "twitch:" + opts.Channel, Platform: PlatformTwitch, Stream: opts.Stream, Reader: reader,
		State: "connecting", QuotaLeft: -1, DryRun: opts.DryRun}
	if opts.Token != "" {
		tok := &oauth2.Token{AccessToken: strings.TrimPrefix(opts.Token, "oauth:"), RefreshToken: opts.RefreshToken, TokenType: "Bearer"}
		if opts.RefreshToken != "" {
			url := opts.TokenURL
			if url == "" {
				url = "https://id.twitch.tv/oauth2/token"
			}
			cfg := &oauth2.Config{ClientID: opts.ClientID, ClientSecret: opts.ClientSecret,
				Endpoint: oauth2.Endpoint{TokenURL: url, AuthStyle: oauth2.AuthStyleInParams}}
			t.tokens = &refresher{cfg: cfg, tok: tok, client: opts.Client}
		} else {
			t.tokens = oauth2.StaticTokenSource(tok)
		}
	}
	return t, nil
}

// Start reads chat until Close.
func (t *Twitch) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	go func() {
		defer close(t.done)
		if t.opts.EventSub {
			t.readEventSub(ctx)
		} else {
			t.readIRC(ctx)
		}
		t.health.set(func(s *HealthState) { s.Connected = false; s.State = "stopped" })
	}()
}

// Close stops reading and waits for the reader, or for ctx.
func (t *Twitch) Close(ctx context.Context) error {
	if t.cancel == nil {
		return nil
	}
	t.cancel()
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Health returns the connector's state.
func (t *Twitch) Health() HealthState {
	h := t.health.get()
	h.IDs = t.ids.len()
	return h
}

// Platform is "twitch".
func (t *Twitch) Platform() string { return PlatformTwitch }

// Stream is the stream it feeds.
func (t *Twitch) Stream() string { return t.opts.Stream }

// Saw reports whether message id was read by this connector lately.
func (t *Twitch) Saw(id string) bool { return t.ids.has(id) }

func (t *Twitch) logf(format string, args ...any) {
	if t.opts.Log != nil {
		t.opts.Log(fmt.Sprintf(format, args...))
	}
}

// Act carries out a through Helix: DELETE /moderation/chat (hide), POST
// /moderation/bans with a duration (timeout) or without (ban), DELETE
// /moderation/bans (unban), POST /chat/messages with
// reply_parent_message_id (reply).
func (t *Twitch) Act(ctx context.Context, a store.Action) error {
	q := url.Values{"broadcaster_id": {t.opts.BroadcasterID}, "moderator_id": {t.opts.ModeratorID}}
	var method, path string
	var body any
	switch a.Kind {
	case store.ActHide:
		method, path = http.MethodDelete, "/moderation/chat"
		q.Set("message_id", a.Target)
	case store.ActTimeout, store.ActBan:
		method, path = http.MethodPost, "/moderation/bans"
		data := map[string]any{"user_id": a.User}
		if a.Kind == store.ActTimeout {
			data["duration"] = a.Seconds
		}
		if a.Reason != "" {
			data["reason"] = truncate(a.Reason, 500)
		}
		body = map[string]any{"data": data}
	case store.ActUnban:
		method, path = http.MethodDelete, "/moderation/bans"
		q.Set("user_id", a.User)
	case store.ActReply:
		method, path, q = http.MethodPost, "/chat/messages", nil
		m := map[string]any{"broadcaster_id": t.opts.BroadcasterID, "sender_id": t.opts.ModeratorID, "message": truncate(a.Text, 500)}
		if a.Target != "" {
			m["reply_parent_message_id"] = a.Target
		}
		body = m
	default:
		return &Refused{Reason: "unknown action " + a.Kind}
	}
	u := t.opts.API + path
	if q != nil {
		u += "?" + q.Encode()
	}
	if t.opts.DryRun {
		t.logf("twitch %s: dry run: would %s %s %s", t.opts.Channel, method, u, jsonText(body))
		return nil
	}
	if t.tokens == nil {
		return &Refused{Reason: ErrNoToken.Error()}
	}
	if a.Kind == store.ActReply {
		if err := t.chat.Wait(ctx); err != nil {
			return err
		}
	}
	resp, err := t.helix(ctx, method, u, body)
	if err != nil {
		return err
	}
	if a.Kind == store.ActReply {
		var out struct {
			Data []struct {
				MessageID  string `json:"message_id"`
				IsSent     bool   `json:"is_sent"`
				DropReason *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"drop_reason"`
			} `json:"data"`
		}
		if err := json.Unmarshal(resp, &out); err != nil || len(out.Data) == 0 {
			return fmt.Errorf("helix chat/messages: unreadable answer %.200q", resp)
		}
		if d := out.Data[0]; !d.IsSent {
			r := "Twitch dropped the message"
			if d.DropReason != nil {
				r += ": " + d.DropReason.Code + " " + d.DropReason.Message
			}
			return &Refused{Reason: r}
		}
	}
	return nil
}

// helix makes one call, honouring Ratelimit-Remaining/Reset (it waits
// for the reset once the bucket is empty), refreshing the token once on a
// 401, and sorting failures: 429 and 5xx are temporary (a 429 with the
// time of its reset), other 4xx are refusals.
func (t *Twitch) helix(ctx context.Context, method, u string, body any) ([]byte, error) {
	t.rmu.Lock()
	wait := time.Until(t.reset)
	t.rmu.Unlock()
	if wait > 0 {
		if wait > 2*time.Minute {
			return nil, &RetryAt{At: time.Now().Add(wait), Err: errors.New("helix rate limit")}
		}
		if !sleep(ctx, wait) {
			return nil, ctx.Err()
		}
	}
	for try := 0; ; try++ {
		tok, err := t.tokens.Token()
		if err != nil {
			return nil, fmt.Errorf("twitch token: %w", err)
		}
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, &Refused{Reason: err.Error()}
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Client-Id", t.opts.ClientID)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := t.opts.Client.Do(req)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		reset := time.Time{}
		if s, err := strconv.ParseInt(resp.Header.Get("Ratelimit-Reset"), 10, 64); err == nil {
			reset = time.Unix(s, 0)
		}
		if resp.Header.Get("Ratelimit-Remaining") == "0" || resp.StatusCode == http.StatusTooManyRequests {
			t.rmu.Lock()
			t.reset = reset
			t.rmu.Unlock()
		}
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return b, nil
		case resp.StatusCode == http.StatusUnauthorized && try == 0:
			if r, ok := t.tokens.(*refresher); ok {
				r.expire()
				continue
			}
			return nil, &Refused{Reason: "Twitch says the token is not valid (401): " + helixMessage(b) + "; renew token in connect.twitch, or set refresh_token and client_secret"}
		case resp.StatusCode == http.StatusTooManyRequests:
			if reset.IsZero() {
				reset = time.Now().Add(time.Second)
			}
			return nil, &RetryAt{At: reset, Err: fmt.Errorf("helix %s: 429 rate limited", req.URL.Path)}
		case resp.StatusCode >= 500:
			return nil, fmt.Errorf("helix %s: %s", req.URL.Path, resp.Status)
		default:
			return nil, &Refused{Reason: fmt.Sprintf("helix %s %s: %s", method, req.URL.Path, helixMessage(b))}
		}
	}
}

// helixMessage is the message of a Helix error body
// ({"error":"Bad Request","status":400,"message":"…"}).
func helixMessage(b []byte) string {
	var e struct {
		Status  int    `json:"status"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && (e.Message != "" || e.Error != "") {
		return strconv.Itoa(e.Status) + " " + e.Error + ": " + e.Message
	}
	return truncate(string(b), 200)
}

// refresher is a token source that refreshes when told the token was
// refused (Twitch user tokens carry no expiry we could trust).
type refresher struct {
	mu     sync.Mutex
	cfg    *oauth2.Config
	tok    *oauth2.Token
	client *http.Client
}

func (r *refresher) Token() (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tok.Valid() {
		return r.tok, nil
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, r.client)
	t, err := r.cfg.TokenSource(ctx, r.tok).Token()
	if err != nil {
		return nil, err
	}
	r.tok = t
	return t, nil
}

func (r *refresher) expire() {
	r.mu.Lock()
	t := *r.tok
	t.Expiry = time.Unix(1, 0)
	r.tok = &t
	r.mu.Unlock()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		n--
	}
	return s[:n]
}

func jsonText(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
