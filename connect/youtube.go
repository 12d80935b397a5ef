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
	"strings"
	"sync"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

// YouTubeOptions configure one YouTube live chat (a connect.youtube
// entry). Every zero value means its documented default.
type YouTubeOptions struct {
	LiveChatID string // the broadcast's snippet.liveChatId; required
	Stream     string // the livemod stream it feeds; empty means LiveChatID
	// APIKey reads a public chat; Token (an OAuth access token with the
	// youtube.force-ssl scope, of the channel's owner or a moderator)
	// reads and acts. One of them is required.
	APIKey, Token string
	// API is the YouTube Data API's base URL. Empty means
	// https://www.googleapis.com/youtube/v3.
	API string
	// QuotaPerDay is the project's daily quota in units (a list costs 5,
	// a delete, ban or reply 50). Zero means 10,000.
	QuotaPerDay int
	// ShowLength is how long a show is expected to run: the poller
	// spreads what is left of the day's quota over what is left of it.
	// Zero means 4h.
	ShowLength time.Duration
	// MinInterval is the shortest wait between polls, whatever YouTube's
	// pollingIntervalMillis says. Zero means 1s.
	MinInterval time.Duration
	DryRun      bool
	// MinBackoff and MaxBackoff bound the wait after a failed poll. Zero
	// means 1s and 2m.
	MinBackoff, MaxBackoff time.Duration
	// Quota keeps the units used today across restarts. Nil keeps them
	// in memory only. *store.DB implements it.
	Quota  QuotaStore
	Client *http.Client // nil means a client with a 10s timeout
	Log    func(string) // nil drops the operator's lines
	Now    func() time.Time
}

// QuotaStore keeps a quota's units used per day.
type QuotaStore interface {
	QuotaUsed(key, day string) (int, error)
	SetQuotaUsed(key, day string, used int) error
}

// Quota costs of the YouTube Data API calls used.
const (
	ytListCost  = 5
	ytWriteCost = 50
)

// YouTube is a live chat's connector: it polls liveChatMessages.list into
// a stream and acts with liveChatMessages.delete, liveChatBans.insert and
// liveChatMessages.insert. Create it with NewYouTube.
type YouTube struct {
	opts   YouTubeOptions
	sink   Sink
	health health
	ids    recentIDs

	qmu     sync.Mutex
	used    int               // quota units used today
	day     string            // the quota's day (Pacific time, when it resets)
	started time.Time         // when polling began
	bans    map[string]string // channel id → ban id, for unban (bounded)

	cancel context.CancelFunc
	done   chan struct{}
}

// ErrNoLiveChat is a YouTube entry without a live_chat_id.
var ErrNoLiveChat = errors.New("connect: youtube: live_chat_id is required")

// NewYouTube returns the connector of opts.LiveChatID.
func NewYouTube(opts YouTubeOptions, sink Sink) (*YouTube, error) {
	if opts.LiveChatID == "" {
		return nil, ErrNoLiveChat
	}
	if opts.APIKey == "" && opts.Token == "" {
		return nil, fmt.Errorf("connect: youtube %s: needs api_key (read) or token (read and act)", opts.LiveChatID)
	}
	if opts.Stream == "" {
		opts.Stream = opts.LiveChatID
	}
	if opts.API == "" {
		opts.API = "https://www.googleapis.com/youtube/v3"
	}
	opts.API = strings.TrimRight(opts.API, "/")
	if opts.QuotaPerDay <= 0 {
		opts.QuotaPerDay = 10000
	}
	if opts.ShowLength <= 0 {
		opts.ShowLength = 4 * time.Hour
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 2 * time.Minute
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	y := &YouTube{opts: opts, sink: sink, done: make(chan struct{}), bans: map[string]string{}}
	y.health.s = HealthState{Name: "youtube:" + opts.LiveChatID, Platform: PlatformYouTube, Stream: opts.Stream, Reader: "poll",
		State: "connecting", QuotaLeft: opts.QuotaPerDay, DryRun: opts.DryRun}
	return y, nil
}

// Platform is "youtube".
func (y *YouTube) Platform() string { return PlatformYouTube }

// Stream is the stream it feeds.
func (y *YouTube) Stream() string { return y.opts.Stream }

// Saw reports whether message id was read lately.
func (y *YouTube) Saw(id string) bool { return y.ids.has(id) }

// Health returns the connector's state.
func (y *YouTube) Health() HealthState {
	h := y.health.get()
	h.IDs = y.ids.len()
	y.qmu.Lock()
	h.Bans = len(y.bans)
	y.qmu.Unlock()
	return h
}

func (y *YouTube) logf(format string, args ...any) {
	if y.opts.Log != nil {
		y.opts.Log(fmt.Sprintf(format, args...))
	}
}

// Start polls until Close or the chat ends.
func (y *YouTube) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	y.cancel = cancel
	go func() {
		defer close(y.done)
		y.poll(ctx)
	}()
}

// Close stops polling and waits, or until ctx ends.
func (y *YouTube) Close(ctx context.Context) error {
	if y.cancel == nil {
		return nil
	}
	y.cancel()
	select {
	case <-y.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pacific is where YouTube's quota day turns.
var pacific = func() *time.Location {
	if l, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return l
	}
	return time.FixedZone("PST", -8*3600)
}()

// spend records units used and returns what is left today.
func (y *YouTube) spend(units int) int {
	day := y.opts.Now().In(pacific).Format(time.DateOnly)
	y.qmu.Lock()
	turned := day != y.day
	if turned {
		y.day, y.used = day, 0
	}
	y.qmu.Unlock()
	if turned && y.opts.Quota != nil { // what an earlier run spent today
		if used, err := y.opts.Quota.QuotaUsed(y.opts.LiveChatID, day); err == nil {
			y.qmu.Lock()
			y.used += used
			y.qmu.Unlock()
		}
	}
	y.qmu.Lock()
	y.used += units
	used := y.used
	y.qmu.Unlock()
	if y.opts.Quota != nil {
		if err := y.opts.Quota.SetQuotaUsed(y.opts.LiveChatID, day, used); err != nil {
			y.health.fail(fmt.Errorf("save quota used: %w", err))
		}
	}
	left := max(0, y.opts.QuotaPerDay-used)
	y.health.set(func(s *HealthState) { s.QuotaLeft = left })
	return left
}

// Interval is the wait before the next poll: YouTube's
// pollingIntervalMillis, or longer so that the quota left today lasts
// for what is left of the show (ShowLength from the first poll); and how
// long the quota follows the show at that pace.
func (y *YouTube) Interval(platform time.Duration, quotaLeft int) (wait, followFor time.Duration) {
	now := y.opts.Now()
	y.qmu.Lock()
	if y.started.IsZero() {
		y.started = now
	}
	rest := y.opts.ShowLength - now.Sub(y.started)
	y.qmu.Unlock()
	wait = max(platform, y.opts.MinInterval)
	polls := quotaLeft / ytListCost
	if polls <= 0 {
		return nextPacificMidnight(now).Sub(now), 0
	}
	if rest > 0 {
		wait = max(wait, rest/time.Duration(polls))
	}
	return wait, time.Duration(polls) * wait
}

func nextPacificMidnight(now time.Time) time.Time {
	t := now.In(pacific)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 5, 0, pacific)
}

// ytPage is liveChatMessages.list's answer, the parts livemod reads.
type ytPage struct {
	NextPageToken         string   `json:"nextPageToken"`
	PollingIntervalMillis int64    `json:"pollingIntervalMillis"`
	OfflineAt             string   `json:"offlineAt"`
	Items                 []ytItem `json:"items"`
}

type ytItem struct {
	ID      string `json:"id"`
	Snippet struct {
		Type               string `json:"type"`
		AuthorChannelID    string `json:"authorChannelId"`
		PublishedAt        string `json:"publishedAt"`
		DisplayMessage     string `json:"displayMessage"`
		TextMessageDetails struct {
			MessageText string `json:"messageText"`
		} `json:"textMessageDetails"`
		SuperChatDetails struct {
			UserComment         string `json:"userComment"`
			AmountDisplayString string `json:"amountDisplayString"`
		} `json:"superChatDetails"`
		MessageDeletedDetails struct {
			DeletedMessageID string `json:"deletedMessageId"`
		} `json:"messageDeletedDetails"`
		UserBannedDetails struct {
			BannedUserDetails struct {
				ChannelID   string `json:"channelId"`
				DisplayName string `json:"displayName"`
			} `json:"bannedUserDetails"`
			BanType            string  `json:"banType"`
			BanDurationSeconds flexInt `json:"banDurationSeconds"`
		} `json:"userBannedDetails"`
	} `json:"snippet"`
	AuthorDetails struct {
		ChannelID       string `json:"channelId"`
		DisplayName     string `json:"displayName"`
		IsVerified      bool   `json:"isVerified"`
		IsChatOwner     bool   `json:"isChatOwner"`
		IsChatSponsor   bool   `json:"isChatSponsor"`
		IsChatModerator bool   `json:"isChatModerator"`
	} `json:"authorDetails"`
}

// errChatEnded ends polling: the chat is over.
var errChatEnded = errors.New("the live chat has ended")

func (y *YouTube) poll(ctx context.Context) {
	bo := backoff{Min: y.opts.MinBackoff, Max: y.opts.MaxBackoff}
	page := ""
	for {
		next, platform, err := y.list(ctx, page)
		if ctx.Err() != nil {
			break
		}
		left := y.spend(ytListCost)
		if errors.Is(err, errChatEnded) {
			y.health.set(func(s *HealthState) { s.Connected = false; s.State = "ended" })
			y.logf("youtube %s: the live chat has ended; polling stops", y.opts.LiveChatID)
			return
		}
		var wait time.Duration
		if err != nil {
			y.health.set(func(s *HealthState) {
				s.Connected = false
				s.State = "waiting"
				s.LastError = err.Error()
				s.Reconnects++
			})
			y.logf("youtube %s: %v", y.opts.LiveChatID, err)
			var later *RetryAt
			if errors.As(err, &later) {
				wait = time.Until(later.At)
			} else {
				wait = bo.next()
			}
		} else {
			bo.reset()
			page = next
			var follow time.Duration
			wait, follow = y.Interval(platform, left)
			y.health.set(func(s *HealthState) {
				s.Connected, s.State, s.FollowFor = true, "connected", follow.Round(time.Minute).String()
			})
		}
		if !sleep(ctx, wait) {
			break
		}
	}
	y.health.set(func(s *HealthState) { s.Connected = false; s.State = "stopped" })
}

// list fetches one page and hands its events on; it returns the next
// page token and YouTube's polling interval.
func (y *YouTube) list(ctx context.Context, page string) (string, time.Duration, error) {
	q := url.Values{"liveChatId": {y.opts.LiveChatID}, "part": {"id,snippet,authorDetails"}, "maxResults": {"2000"}}
	if page != "" {
		q.Set("pageToken", page)
	}
	b, err := y.call(ctx, http.MethodGet, "/liveChat/messages", q, nil)
	if err != nil {
		return "", 0, err
	}
	return y.page(ctx, b)
}

// page reads one liveChatMessages.list answer and hands its events on.
func (y *YouTube) page(ctx context.Context, b []byte) (string, time.Duration, error) {
	var p ytPage
	if err := json.Unmarshal(b, &p); err != nil {
		return "", 0, fmt.Errorf("liveChatMessages.list: unreadable answer: %w", err)
	}
	msgs := make([]*chat.Message, 0, len(p.Items))
	ended := p.OfflineAt != ""
	for i := range p.Items {
		it := &p.Items[i]
		sn := &it.Snippet
		switch sn.Type {
		case "textMessageEvent", "superChatEvent":
			text := sn.TextMessageDetails.MessageText
			if sn.Type == "superChatEvent" {
				text = sn.SuperChatDetails.UserComment
			}
			if text == "" {
				text = sn.DisplayMessage
			}
			if strings.TrimSpace(text) == "" {
				continue // a Super Chat without words
			}
			m := &chat.Message{ID: it.ID, Stream: y.opts.Stream, Platform: PlatformYouTube, Channel: y.opts.LiveChatID, Text: text,
				User: chat.User{ID: it.AuthorDetails.ChannelID, Name: it.AuthorDetails.DisplayName}}
			if m.User.ID == "" {
				m.User.ID = sn.AuthorChannelID
			}
			ad := &it.AuthorDetails
			for _, b := range []struct {
				on   bool
				name string
			}{{ad.IsChatOwner, "owner"}, {ad.IsChatModerator, "moderator"}, {ad.IsChatSponsor, "member"}, {ad.IsVerified, "verified"},
				{sn.Type == "superChatEvent", "superchat"}} {
				if b.on {
					m.User.Badges = append(m.User.Badges, b.name)
				}
			}
			if t, err := time.Parse(time.RFC3339Nano, sn.PublishedAt); err == nil {
				m.TS = t.UnixMilli()
			}
			y.ids.add(m.ID)
			msgs = append(msgs, m)
		case "messageDeletedEvent":
			y.flush(ctx, &msgs)
			y.sink.Mirror(Mirror{Platform: PlatformYouTube, Stream: y.opts.Stream, Kind: "delete",
				Target: sn.MessageDeletedDetails.DeletedMessageID, Reason: "deleted on YouTube"})
		case "userBannedEvent":
			y.flush(ctx, &msgs)
			d := &sn.UserBannedDetails
			r := "user banned on YouTube"
			secs := 0
			if d.BanType == "temporary" {
				secs = int(d.BanDurationSeconds)
				r = fmt.Sprintf("user timed out on YouTube for %ds", secs)
			}
			y.sink.Mirror(Mirror{Platform: PlatformYouTube, Stream: y.opts.Stream, Kind: "clear",
				User: d.BannedUserDetails.ChannelID, Seconds: secs, Reason: r})
		case "chatEndedEvent":
			ended = true
		}
	}
	y.flush(ctx, &msgs)
	if ended {
		return "", 0, errChatEnded
	}
	return p.NextPageToken, time.Duration(p.PollingIntervalMillis) * time.Millisecond, nil
}

func (y *YouTube) flush(ctx context.Context, msgs *[]*chat.Message) {
	if len(*msgs) == 0 {
		return
	}
	y.health.read(len(*msgs), time.Now())
	if err := y.sink.Accept(ctx, y.opts.Stream, *msgs); err != nil {
		y.health.fail(err)
	}
	*msgs = (*msgs)[:0]
}

// Act carries out a: liveChatMessages.delete (hide), liveChatBans.insert
// temporary with banDurationSeconds (timeout) or permanent (ban),
// liveChatBans.delete (unban, of a ban this connector made) and
// liveChatMessages.insert (reply: YouTube has no threads, the reply's
// text names the asker).
func (y *YouTube) Act(ctx context.Context, a store.Action) error {
	var method, path string
	q := url.Values{}
	var body any
	switch a.Kind {
	case store.ActHide:
		method, path = http.MethodDelete, "/liveChat/messages"
		q.Set("id", a.Target)
	case store.ActTimeout, store.ActBan:
		method, path = http.MethodPost, "/liveChat/bans"
		q.Set("part", "snippet")
		sn := map[string]any{"liveChatId": y.opts.LiveChatID, "type": "permanent", "bannedUserDetails": map[string]string{"channelId": a.User}}
		if a.Kind == store.ActTimeout {
			sn["type"], sn["banDurationSeconds"] = "temporary", a.Seconds
		}
		body = map[string]any{"snippet": sn}
	case store.ActUnban:
		y.qmu.Lock()
		id := y.bans[a.User]
		y.qmu.Unlock()
		if id == "" {
			return &Refused{Reason: "YouTube unbans by the ban's id, and this user's ban was not made by this livemod since it started: unban in YouTube Studio"}
		}
		method, path = http.MethodDelete, "/liveChat/bans"
		q.Set("id", id)
	case store.ActReply:
		method, path = http.MethodPost, "/liveChat/messages"
		q.Set("part", "snippet")
		body = map[string]any{"snippet": map[string]any{"liveChatId": y.opts.LiveChatID, "type": "textMessageEvent",
			"textMessageDetails": map[string]string{"messageText": truncate(a.Text, 200)}}}
	default:
		return &Refused{Reason: "unknown action " + a.Kind}
	}
	if y.opts.DryRun {
		y.logf("youtube %s: dry run: would %s %s?%s %s", y.opts.LiveChatID, method, y.opts.API+path, q.Encode(), jsonText(body))
		return nil
	}
	if y.opts.Token == "" {
		return &Refused{Reason: ErrNoToken.Error()}
	}
	b, err := y.call(ctx, method, path, q, body)
	y.spend(ytWriteCost)
	if err != nil {
		return err
	}
	if a.Kind == store.ActTimeout || a.Kind == store.ActBan {
		var ban struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(b, &ban) == nil && ban.ID != "" {
			y.qmu.Lock()
			if len(y.bans) >= 10000 {
				clear(y.bans) // bounded: unbans of older bans go through Studio
			}
			y.bans[a.User] = ban.ID
			y.qmu.Unlock()
		}
	}
	return nil
}

// call makes one API call; errors are sorted as Helix's: quota and rate
// limits are retried later, other 4xx refused, 5xx retried.
func (y *YouTube) call(ctx context.Context, method, path string, q url.Values, body any) ([]byte, error) {
	if y.opts.Token == "" {
		q.Set("key", y.opts.APIKey)
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, y.opts.API+path+"?"+q.Encode(), rd)
	if err != nil {
		return nil, &Refused{Reason: err.Error()}
	}
	if y.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+y.opts.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := y.opts.Client.Do(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return b, nil
	}
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	json.Unmarshal(b, &e)
	reason := ""
	if len(e.Error.Errors) > 0 {
		reason = e.Error.Errors[0].Reason
	}
	what := fmt.Sprintf("youtube %s %s: %d %s %s", method, path, resp.StatusCode, reason, e.Error.Message)
	switch {
	case reason == "liveChatEnded" || reason == "liveChatDisabled" || (reason == "liveChatNotFound" && method == http.MethodGet):
		return nil, errChatEnded
	case reason == "quotaExceeded" || reason == "dailyLimitExceeded":
		return nil, &RetryAt{At: nextPacificMidnight(y.opts.Now()), Err: errors.New(what + " (the day's quota is spent)")}
	case reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" || resp.StatusCode == http.StatusTooManyRequests:
		return nil, &RetryAt{At: time.Now().Add(10 * time.Second), Err: errors.New(what)}
	case resp.StatusCode >= 500:
		return nil, errors.New(what)
	}
	return nil, &Refused{Reason: what}
}

// flexInt reads a number written as a JSON number or, as Google's APIs
// write 64-bit integers, a string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(bytes.Trim(b, `"`), &n); err != nil {
		return err
	}
	v, err := n.Int64()
	*f = flexInt(v)
	return err
}
