package connect

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/chat"
	"golang.org/x/time/rate"
)

// twitchJoins is Twitch's join limit (20 JOINs per 10 seconds per
// account), shared by every Twitch connector of the process.
var twitchJoins = rate.NewLimiter(rate.Every(500*time.Millisecond), 20)

// lineConn is an IRC connection: TCP (irc://) or websocket (wss://, as
// Twitch's browser clients use).
type lineConn interface {
	ReadLine(ctx context.Context) (string, error)
	WriteLine(ctx context.Context, line string) error
	Close() error
}

// errLineTooLong is a line over maxIRCLine; the connection skips it.
var errLineTooLong = errors.New("connect: irc line over 8703 bytes, skipped")

func dialIRC(ctx context.Context, server string) (lineConn, error) {
	u, err := url.Parse(server)
	if err != nil {
		return nil, fmt.Errorf("server %q: %w", server, err)
	}
	switch u.Scheme {
	case "ws", "wss":
		c, _, err := websocket.Dial(ctx, server, nil)
		if err != nil {
			return nil, err
		}
		c.SetReadLimit(64 << 10)
		return &wsLines{c: c}, nil
	case "irc", "ircs":
		if u.Scheme == "ircs" {
			return nil, fmt.Errorf("server %q: ircs is not supported; use wss://irc-ws.chat.twitch.tv:443 or irc://host:port", server)
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", u.Host)
		if err != nil {
			return nil, err
		}
		return &tcpLines{c: c, r: bufio.NewReaderSize(c, maxIRCLine+2)}, nil
	}
	return nil, fmt.Errorf("server %q: want wss://host:port or irc://host:port", server)
}

type tcpLines struct {
	c  net.Conn
	r  *bufio.Reader
	wm sync.Mutex
}

func (t *tcpLines) ReadLine(ctx context.Context) (string, error) {
	line, err := t.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = t.r.ReadSlice('\n')
		}
		if err == nil {
			err = errLineTooLong
		}
		return "", err
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

func (t *tcpLines) WriteLine(ctx context.Context, line string) error {
	t.wm.Lock()
	defer t.wm.Unlock()
	t.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := t.c.Write([]byte(line + "\r\n"))
	return err
}

func (t *tcpLines) Close() error { return t.c.Close() }

type wsLines struct {
	c       *websocket.Conn
	pending []string
}

func (w *wsLines) ReadLine(ctx context.Context) (string, error) {
	for len(w.pending) == 0 {
		_, b, err := w.c.Read(ctx)
		if err != nil {
			return "", err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimRight(l, "\r"); l != "" {
				w.pending = append(w.pending, l)
			}
		}
	}
	l := w.pending[0]
	w.pending = w.pending[1:]
	if len(l) > maxIRCLine {
		return "", errLineTooLong
	}
	return l, nil
}

func (w *wsLines) WriteLine(ctx context.Context, line string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return w.c.Write(ctx, websocket.MessageText, []byte(line+"\r\n"))
}

func (w *wsLines) Close() error { return w.c.CloseNow() }

// errReconnect ends a session because the server asked (RECONNECT).
var errReconnect = errors.New("server asked to reconnect")

// readIRC runs IRC sessions until ctx ends: connect, CAP REQ (a NAK only
// means a plain IRC server), PASS/NICK/USER, JOIN within Twitch's join
// limit once welcomed, PING answered, our own PING when the line is quiet
// (and a reconnect if even that gets no answer), RECONNECT or a lost
// connection → reconnect with backoff and join again.
func (t *Twitch) readIRC(ctx context.Context) {
	bo := backoff{Min: t.opts.MinBackoff, Max: t.opts.MaxBackoff}
	for first := true; ; first = false {
		if !first {
			t.health.set(func(s *HealthState) { s.Reconnects++; s.Connected = false; s.State = "connecting" })
		}
		welcomed, err := t.ircSession(ctx)
		if ctx.Err() != nil {
			return
		}
		if welcomed {
			bo.reset()
		}
		t.health.set(func(s *HealthState) { s.Connected = false; s.State = "waiting" })
		if errors.Is(err, errReconnect) {
			t.logf("twitch %s: the server asked to reconnect", t.opts.Channel)
			continue
		}
		if err != nil {
			t.health.fail(err)
			t.logf("twitch %s: %v", t.opts.Channel, err)
		}
		if !sleep(ctx, bo.next()) {
			return
		}
	}
}

func (t *Twitch) ircSession(ctx context.Context) (welcomed bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	c, err := dialIRC(dctx, t.opts.Server)
	cancel()
	if err != nil {
		return false, fmt.Errorf("connect %s: %w", t.opts.Server, err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { <-sctx.Done(); c.Close() }()

	var lastRead atomic.Int64
	var quiet atomic.Bool // the keep-alive gave up on the connection
	lastRead.Store(time.Now().UnixNano())
	go func() { // keep-alive
		tk := time.NewTicker(t.opts.KeepAlive)
		defer tk.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-tk.C:
			}
			if time.Since(time.Unix(0, lastRead.Load())) > 2*t.opts.KeepAlive {
				quiet.Store(true)
				c.Close()
				return
			}
			c.WriteLine(sctx, "PING :livemod")
		}
	}()

	nick := t.nick()
	hello := []string{"CAP REQ :twitch.tv/tags twitch.tv/commands"}
	if t.opts.Token != "" {
		hello = append(hello, "PASS oauth:"+strings.TrimPrefix(t.opts.Token, "oauth:"))
	}
	hello = append(hello, "NICK "+nick, "USER "+nick+" 8 * :"+nick, "CAP END")
	for _, l := range hello {
		if err := c.WriteLine(sctx, l); err != nil {
			return false, err
		}
	}
	for {
		line, err := c.ReadLine(sctx)
		if errors.Is(err, errLineTooLong) {
			t.health.fail(err)
			continue
		}
		if quiet.Load() {
			return welcomed, fmt.Errorf("%s: no line for %v, not even an answer to our PING: reconnecting", t.opts.Server, 2*t.opts.KeepAlive)
		}
		if err != nil {
			return welcomed, fmt.Errorf("read %s: %w", t.opts.Server, err)
		}
		lastRead.Store(time.Now().UnixNano())
		m, err := ParseIRC(line)
		if err != nil {
			continue // an empty or unreadable line costs nothing else
		}
		switch m.Command {
		case "PING":
			err = c.WriteLine(sctx, "PONG :"+m.Param(len(m.Params)-1))
		case "CAP":
			if m.Param(1) == "NAK" {
				t.logf("twitch %s: %s does not offer Twitch's tags (CAP NAK): reading plain IRC", t.opts.Channel, t.opts.Server)
			}
		case "001":
			welcomed = true
			if err := t.opts.Joins.Wait(sctx); err != nil {
				return welcomed, err
			}
			err = c.WriteLine(sctx, "JOIN #"+strings.ToLower(t.opts.Channel))
		case "433": // nick in use (a plain IRC server): take another
			nick = nick + strconv.Itoa(rand.IntN(10))
			err = c.WriteLine(sctx, "NICK "+nick)
		case "JOIN":
			if strings.EqualFold(m.Nick(), nick) {
				t.health.set(func(s *HealthState) { s.Connected = true; s.State = "connected"; s.LastError = "" })
				t.logf("twitch %s: joined on %s", t.opts.Channel, t.opts.Server)
			}
		case "NOTICE":
			if txt := m.Param(1); strings.Contains(txt, "Login authentication failed") || strings.Contains(txt, "Improperly formatted auth") {
				return welcomed, fmt.Errorf("twitch refused the token: %s (check token in connect.twitch)", txt)
			}
		default:
			err = t.handle(ctx, &m)
		}
		if err != nil {
			return welcomed, err
		}
	}
}

// handle acts on a line that may be chat or a moderation.
func (t *Twitch) handle(ctx context.Context, m *IRC) error {
	ev := TwitchEventOf(m, t.opts.Stream)
	if ev.Channel != "" && !strings.EqualFold(ev.Channel, t.opts.Channel) {
		return nil
	}
	switch ev.Kind {
	case "message":
		msg := ev.Message
		msg.Channel = t.opts.Channel
		t.ids.add(msg.ID)
		t.health.read(1, time.Now())
		// Accept blocks while the pipeline is full: backpressure reaches
		// the socket, as with any ingest.
		return t.sink.Accept(ctx, t.opts.Stream, []*chat.Message{&msg})
	case "delete":
		t.sink.Mirror(Mirror{Platform: PlatformTwitch, Stream: t.opts.Stream, Kind: "delete", Target: ev.Target,
			Reason: "deleted on Twitch"})
	case "clear":
		r := "chat cleared on Twitch"
		if ev.Target != "" {
			r = "user banned on Twitch"
			if ev.Seconds > 0 {
				r = "user timed out on Twitch for " + strconv.Itoa(ev.Seconds) + "s"
			}
		}
		t.sink.Mirror(Mirror{Platform: PlatformTwitch, Stream: t.opts.Stream, Kind: "clear", User: ev.Target, Seconds: ev.Seconds, Reason: r})
	case "reconnect":
		return errReconnect
	}
	return nil
}

// nick is the configured nick, or an anonymous justinfan one (read-only,
// no token needed).
func (t *Twitch) nick() string {
	if t.opts.Nick != "" {
		return t.opts.Nick
	}
	return "justinfan" + strconv.Itoa(1000+rand.IntN(89999))
}
