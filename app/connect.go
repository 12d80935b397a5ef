package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/connect"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/stream"
	"github.com/prometheus/client_golang/prometheus"
)

// connectors are the platform connectors of the config and the outbox
// their streams' actions go through. nil when the config has none.
type connectors struct {
	actions *connect.Actions
}

// connSink feeds what connectors read into the app: messages through the
// ingest's admission, platform moderations into the desk.
type connSink struct{ a *App }

func (s connSink) Accept(ctx context.Context, streamID string, msgs []*chat.Message) error {
	if s.leftToOwner(streamID, len(msgs)) {
		return nil
	}
	refused, err := s.a.ingest.Accept(ctx, streamID, msgs)
	for i, why := range refused {
		fmt.Fprintf(s.a.log, "livemod: connector message %q of stream %q refused: %s\n", msgs[i].ID, streamID, why)
	}
	return err
}

func (s connSink) Mirror(m connect.Mirror) {
	if s.leftToOwner(m.Stream, 1) {
		return
	}
	s.a.Desk.Mirror(m.Platform, m.Stream, m.Kind, m.Target, m.User, m.Seconds, m.Reason)
}

// leftToOwner reports whether another node of a cluster decides stream:
// every node's connector reads the channel, and the owner's copy is the
// one decided (docs/SCALING.md), so this node drops its n.
func (s connSink) leftToOwner(stream string, n int) bool {
	if s.a.cluster == nil || !s.a.cluster.Elsewhere(stream) {
		return false
	}
	s.a.cluster.leftToOwner.Add(float64(n))
	return true
}

// wireConnect builds the connectors of cfg.Connect and their outbox; it
// registers their health metrics. They start with startConnect.
func (a *App) wireConnect() (*connectors, error) {
	cc := a.Cfg.Connect
	if len(cc.Twitch) == 0 && len(cc.YouTube) == 0 {
		return nil, nil
	}
	logf := func(s string) { fmt.Fprintln(a.log, "livemod:", s) }
	var conns []connect.Connector
	sink := connSink{a}
	for i, t := range cc.Twitch {
		var sec [3]string
		for j, v := range []string{t.Token, t.RefreshToken, t.ClientSecret} {
			s, err := config.Secret(v)
			if err != nil {
				return nil, fmt.Errorf("connect.twitch[%d]: %w", i, err)
			}
			sec[j] = s
		}
		c, err := connect.NewTwitch(connect.TwitchOptions{
			Channel: t.Channel, Stream: t.Stream, Server: t.Server, Nick: t.Nick, Token: sec[0],
			ClientID: t.ClientID, BroadcasterID: t.BroadcasterID, ModeratorID: t.ModeratorID,
			RefreshToken: sec[1], ClientSecret: sec[2], API: t.API, EventSub: t.EventSub, DryRun: t.DryRun, Log: logf,
		}, sink)
		if err != nil {
			return nil, fmt.Errorf("connect.twitch[%d]: %w", i, err)
		}
		conns = append(conns, c)
	}
	for i, y := range cc.YouTube {
		key, err := config.Secret(y.APIKey)
		if err != nil {
			return nil, fmt.Errorf("connect.youtube[%d].api_key: %w", i, err)
		}
		tok, err := config.Secret(y.Token)
		if err != nil {
			return nil, fmt.Errorf("connect.youtube[%d].token: %w", i, err)
		}
		c, err := connect.NewYouTube(connect.YouTubeOptions{
			LiveChatID: y.LiveChatID, Stream: y.Stream, APIKey: key, Token: tok, API: y.API,
			QuotaPerDay: y.QuotaPerDay, ShowLength: y.ShowLength, DryRun: y.DryRun, Log: logf, Quota: a.DB,
		}, sink)
		if err != nil {
			return nil, fmt.Errorf("connect.youtube[%d]: %w", i, err)
		}
		conns = append(conns, c)
	}
	x := connect.NewActions(a.DB, conns, connect.ActionsOptions{
		MaxAttempts: cc.Actions.MaxAttempts, Initial: cc.Actions.Initial, Max: cc.Actions.Max, Keep: cc.Actions.Keep,
		OnOutcome:  func(pa store.Action) { a.Desk.PlatformOutcome(pa) },
		OnError:    func(err error) { fmt.Fprintln(a.log, "livemod: platform actions:", err) },
		Registerer: a.reg,
	})
	registerHealth(a.reg, conns)
	return &connectors{actions: x}, nil
}

// registerHealth exports each connector's state, labelled by platform and
// its index in the config (never the channel: stream names are free-form).
func registerHealth(reg prometheus.Registerer, conns []connect.Connector) {
	idx := map[string]int{}
	for _, c := range conns {
		c := c
		labels := prometheus.Labels{"platform": c.Platform(), "connector": strconv.Itoa(idx[c.Platform()])}
		idx[c.Platform()]++
		gauge := func(name, help string, f func(h connect.HealthState) float64) {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels},
				func() float64 { return f(c.Health()) }))
		}
		gauge("livemod_connect_connected", "1 while the connector reads its chat.", func(h connect.HealthState) float64 {
			if h.Connected {
				return 1
			}
			return 0
		})
		gauge("livemod_connect_reconnects", "Reconnects since start.", func(h connect.HealthState) float64 { return float64(h.Reconnects) })
		gauge("livemod_connect_messages", "Messages read since start.", func(h connect.HealthState) float64 { return float64(h.Messages) })
		gauge("livemod_connect_last_message_timestamp_seconds", "Unix time of the last message read.", func(h connect.HealthState) float64 {
			return float64(h.LastMessage) / 1000
		})
		gauge("livemod_connect_remembered_ids", "Message ids remembered to route replies and hides (at most 8192).", func(h connect.HealthState) float64 {
			return float64(h.IDs)
		})
		gauge("livemod_connect_remembered_bans", "YouTube ban ids kept for unbans (at most 10000).", func(h connect.HealthState) float64 {
			return float64(h.Bans)
		})
		gauge("livemod_connect_quota_left", "YouTube quota units left today (-1 where none applies).", func(h connect.HealthState) float64 {
			return float64(h.QuotaLeft)
		})
	}
}

// states is each connector's health, for /v1/connectors.
func (c *connectors) States() []connect.HealthState {
	out := []connect.HealthState{}
	if c == nil {
		return out
	}
	for _, k := range c.actions.Connectors() {
		out = append(out, k.Health())
	}
	return out
}

// status is /readyz's lines about the connectors.
func (c *connectors) status() string {
	var b strings.Builder
	for _, h := range c.States() {
		fmt.Fprintf(&b, "connector %s (stream %s, %s): %s, reconnects %d, messages %d", h.Name, h.Stream, h.Reader, h.State, h.Reconnects, h.Messages)
		if h.LastMessage > 0 {
			fmt.Fprintf(&b, ", last message %s ago", time.Since(time.UnixMilli(h.LastMessage)).Round(time.Second))
		}
		if h.QuotaLeft >= 0 {
			fmt.Fprintf(&b, ", quota left %d", h.QuotaLeft)
			if h.FollowFor != "" {
				fmt.Fprintf(&b, " (follows the show for %s more)", h.FollowFor)
			}
		}
		if h.DryRun {
			b.WriteString(", dry run")
		}
		if h.LastError != "" {
			fmt.Fprintf(&b, ", last error: %s", h.LastError)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// reply sends an automated reply of a connected stream to its platform,
// in reply to the newest asker's message.
func (c *connectors) reply(r *chat.Reply) error {
	if c == nil || len(r.InReplyTo) == 0 || len(r.To) != len(r.InReplyTo) {
		return nil
	}
	// The asker is named as (platform, user) (chat.Subject): a reply
	// to a message no connector read (a bridge's) stays with the bridge.
	last := len(r.InReplyTo) - 1
	platform, _, _ := strings.Cut(r.To[last], ":")
	if platform != connect.PlatformTwitch && platform != connect.PlatformYouTube {
		return nil
	}
	return c.actions.Enqueue(store.Action{Kind: store.ActReply, Stream: r.Stream, Platform: platform, Target: r.InReplyTo[last],
		Text: r.Text, Reason: "reply " + r.ID, Actor: "auto"})
}

func (a *App) connectRoutes(srv *overlay.Server) {
	overlay.RegisterConnectors(srv, func(sees func(string) bool) []connect.HealthState {
		out := []connect.HealthState{}
		for _, h := range a.Conn.States() {
			if sees(h.Stream) {
				out = append(out, h)
			}
		}
		return out
	})
}

// sinks is the pipeline's sinks with, first, the outbox (automatic hides
// of connected streams go to their platform).
func (c *connectors) sinks(rest ...stream.Sink) []stream.Sink {
	if c == nil {
		return rest
	}
	return append([]stream.Sink{c.actions}, rest...)
}

// port is the desk's Actions port, nil without connectors.
func (c *connectors) port() moderate.Actions {
	if c == nil {
		return nil
	}
	return c.actions
}

func (c *connectors) start() {
	if c != nil {
		c.actions.Start()
	}
}

func (c *connectors) close(ctx context.Context) error {
	if c == nil {
		return nil
	}
	return c.actions.Close(ctx)
}
