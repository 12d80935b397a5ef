package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/chat"
)

// esFrame is one EventSub websocket message, the parts livemod reads.
type esFrame struct {
	Metadata struct {
		MessageID        string `json:"message_id"`
		MessageType      string `json:"message_type"`
		MessageTimestamp string `json:"message_timestamp"`
		SubscriptionType string `json:"subscription_type"`
	} `json:"metadata"`
	Payload struct {
		Session struct {
			ID                      string `json:"id"`
			KeepaliveTimeoutSeconds int    `json:"keepalive_timeout_seconds"`
			ReconnectURL            string `json:"reconnect_url"`
		} `json:"session"`
		Subscription struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"subscription"`
		Event json.RawMessage `json:"event"`
	} `json:"payload"`
}

// esChat is a channel.chat.message, channel.chat.message_delete,
// channel.chat.clear_user_messages or channel.chat.clear event.
type esChat struct {
	ChatterUserID    string `json:"chatter_user_id"`
	ChatterUserLogin string `json:"chatter_user_login"`
	ChatterUserName  string `json:"chatter_user_name"`
	MessageID        string `json:"message_id"`
	Message          struct {
		Text string `json:"text"`
	} `json:"message"`
	Badges []struct {
		SetID string `json:"set_id"`
	} `json:"badges"`
	TargetUserID string `json:"target_user_id"`
}

// eventSubTypes are the subscriptions a session makes: chat, and the
// moderations livemod mirrors.
var eventSubTypes = []string{"channel.chat.message", "channel.chat.message_delete", "channel.chat.clear_user_messages", "channel.chat.clear"}

// readEventSub reads chat over EventSub's websocket: on the welcome it
// subscribes (POST /eventsub/subscriptions with the session id), then
// takes notifications; a session_reconnect moves to the given URL (the
// subscriptions move with it); silence past the keepalive timeout or a
// lost connection reconnects with backoff and subscribes again.
func (t *Twitch) readEventSub(ctx context.Context) {
	bo := backoff{Min: t.opts.MinBackoff, Max: t.opts.MaxBackoff}
	url := t.opts.EventSubURL
	for first := true; ; first = false {
		if !first {
			t.health.set(func(s *HealthState) { s.Reconnects++; s.Connected = false; s.State = "connecting" })
		}
		next, welcomed, err := t.eventSubSession(ctx, url, url != t.opts.EventSubURL)
		if ctx.Err() != nil {
			return
		}
		t.health.set(func(s *HealthState) { s.Connected = false; s.State = "waiting" })
		if welcomed {
			bo.reset()
		}
		if next != "" {
			url = next // session_reconnect: go at once, keep the subscriptions
			continue
		}
		url = t.opts.EventSubURL
		if err != nil {
			t.health.fail(err)
			t.logf("twitch %s: eventsub: %v", t.opts.Channel, err)
		}
		if !sleep(ctx, bo.next()) {
			return
		}
	}
}

func (t *Twitch) eventSubSession(ctx context.Context, url string, moved bool) (reconnectURL string, welcomed bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	c, _, err := websocket.Dial(dctx, url, nil)
	cancel()
	if err != nil {
		return "", false, fmt.Errorf("connect %s: %w", url, err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	keepalive := 30 * time.Second // until the welcome says
	for {
		rctx, cancel := context.WithTimeout(ctx, keepalive+keepalive/2+5*time.Second)
		_, b, err := c.Read(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				err = errors.New("no keepalive from EventSub: reconnecting")
			}
			return "", welcomed, err
		}
		var f esFrame
		if err := json.Unmarshal(b, &f); err != nil {
			t.health.fail(fmt.Errorf("eventsub: unreadable message: %w", err))
			continue
		}
		switch f.Metadata.MessageType {
		case "session_welcome":
			welcomed = true
			if s := f.Payload.Session.KeepaliveTimeoutSeconds; s > 0 {
				keepalive = time.Duration(s) * time.Second
			}
			if !moved {
				for _, typ := range eventSubTypes {
					if err := t.subscribe(ctx, typ, f.Payload.Session.ID); err != nil {
						return "", welcomed, err
					}
				}
			}
			t.health.set(func(s *HealthState) { s.Connected = true; s.State = "connected"; s.LastError = "" })
		case "session_keepalive":
		case "session_reconnect":
			return f.Payload.Session.ReconnectURL, welcomed, nil
		case "revocation":
			return "", welcomed, fmt.Errorf("twitch revoked %s: %s", f.Payload.Subscription.Type, f.Payload.Subscription.Status)
		case "notification":
			if err := t.eventSubEvent(ctx, f.Metadata.SubscriptionType, f.Metadata.MessageTimestamp, f.Payload.Event); err != nil {
				return "", welcomed, err
			}
		}
	}
}

func (t *Twitch) eventSubEvent(ctx context.Context, typ, ts string, raw json.RawMessage) error {
	var e esChat
	if err := json.Unmarshal(raw, &e); err != nil {
		t.health.fail(fmt.Errorf("eventsub %s: %w", typ, err))
		return nil
	}
	switch typ {
	case "channel.chat.message":
		m := chat.Message{ID: e.MessageID, Stream: t.opts.Stream, Platform: PlatformTwitch, Channel: t.opts.Channel,
			User: chat.User{ID: e.ChatterUserID, Name: e.ChatterUserName}, Text: e.Message.Text}
		if m.User.Name == "" {
			m.User.Name = e.ChatterUserLogin
		}
		for _, b := range e.Badges {
			if b.SetID != "" && len(m.User.Badges) < chat.MaxBadges {
				m.User.Badges = append(m.User.Badges, b.SetID)
			}
		}
		if at, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			m.TS = at.UnixMilli()
		}
		t.ids.add(m.ID)
		t.health.read(1, time.Now())
		return t.sink.Accept(ctx, t.opts.Stream, []*chat.Message{&m})
	case "channel.chat.message_delete":
		t.sink.Mirror(Mirror{Platform: PlatformTwitch, Stream: t.opts.Stream, Kind: "delete", Target: e.MessageID, Reason: "deleted on Twitch"})
	case "channel.chat.clear_user_messages":
		t.sink.Mirror(Mirror{Platform: PlatformTwitch, Stream: t.opts.Stream, Kind: "clear", User: e.TargetUserID, Reason: "user's messages cleared on Twitch"})
	case "channel.chat.clear":
		t.sink.Mirror(Mirror{Platform: PlatformTwitch, Stream: t.opts.Stream, Kind: "clear", Reason: "chat cleared on Twitch"})
	}
	return nil
}

// subscribe creates an EventSub subscription of typ on the session.
func (t *Twitch) subscribe(ctx context.Context, typ, session string) error {
	body := map[string]any{"type": typ, "version": "1",
		"condition": map[string]string{"broadcaster_user_id": t.opts.BroadcasterID, "user_id": t.opts.ModeratorID},
		"transport": map[string]string{"method": "websocket", "session_id": session}}
	_, err := t.helix(ctx, http.MethodPost, t.opts.API+"/eventsub/subscriptions", body)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", typ, err)
	}
	return nil
}
