package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// FeedOptions configure Feed. Every zero value means its documented
// default.
type FeedOptions struct {
	// URL is the server's base, ws://host:port (http:// works too).
	URL string
	// Token is sent as "Authorization: Bearer TOKEN"; it needs the ingest
	// role. Empty sends no Authorization header.
	Token string
	// Stream is the stream to feed. Zero means "demo".
	Stream string
	// Rate is messages per second. Zero means 8: a busy show that a person
	// can still read.
	Rate float64
	// Seed picks the chat; the same seed gives the same messages.
	Seed int64
	// Log receives one line per connection event, scene and error frame.
	// Nil means no log.
	Log io.Writer
}

// Feed backoff between reconnects: quick enough for a server restart during
// a demo, slow enough not to spin while it is down.
const (
	feedBackoffMin = 250 * time.Millisecond
	feedBackoffMax = 5 * time.Second
)

// Feed sends a synthetic audience to the server at opts.Rate messages a
// second, with a scene (spam wave, copypasta raid, troll, calls for an
// agent) about every 30 seconds. It reads the server's ack and error
// frames, reconnects with backoff when the connection drops, and returns
// nil when ctx ends. It returns an error only when retrying cannot help:
// the server refuses the token or has no ingest endpoint.
func Feed(ctx context.Context, opts FeedOptions) error {
	if opts.Rate <= 0 {
		opts.Rate = 8
	}
	if opts.Stream == "" {
		opts.Stream = defaultStream
	}
	u, err := endpointURL(opts.URL, "/v1/ingest", opts.Stream, "")
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "feed: "+format+"\n", args...)
		}
	}
	aud := NewAudience(AudienceOptions{
		Seed:       opts.Seed,
		Stream:     opts.Stream,
		SceneEvery: max(40, int(opts.Rate*30)),
	})
	// Ids stay unique across restarts of the demo against the same data.
	prefix := "d" + strconv.FormatInt(time.Now().UnixMilli()%1e9, 36) + "-"
	f := &feeder{opts: opts, aud: aud, prefix: prefix, logf: logf}

	backoff := feedBackoffMin
	for {
		conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: authHeader(opts.Token)})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if resp != nil && fatalStatus(resp.StatusCode) {
				return fmt.Errorf("feed: dial %s: %s: check the token has the ingest role and the URL points at livemod", u, resp.Status)
			}
			logf("dial %s: %v; retrying in %v", u, err, backoff)
			if !sleepCtx(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, feedBackoffMax)
			continue
		}
		backoff = feedBackoffMin
		logf("connected to %s, %.3g msgs/s", u, opts.Rate)
		err = f.pump(ctx, conn)
		if ctx.Err() != nil {
			return nil
		}
		logf("connection lost: %v; reconnecting", err)
	}
}

type feeder struct {
	opts   FeedOptions
	aud    *Audience
	prefix string
	seq    uint64
	buf    []byte
	scene  Kind
	logf   func(string, ...any)
}

// pump sends on conn until ctx ends or the connection fails, then closes
// conn: with a normal close when ctx ended, at once otherwise.
func (f *feeder) pump(ctx context.Context, conn *websocket.Conn) error {
	// The reader is not tied to ctx: cancelling a read closes the
	// connection at once, and a normal close needs the reader to take the
	// server's close frame.
	readCtx, stopRead := context.WithCancel(context.Background())
	defer stopRead()
	readDone := make(chan struct{})
	var readErr error
	go func() {
		defer close(readDone)
		readErr = f.readFrames(readCtx, conn)
	}()

	err := f.send(ctx, conn, readDone)
	if ctx.Err() != nil {
		conn.Close(websocket.StatusNormalClosure, "demo over")
	} else {
		conn.CloseNow()
	}
	stopRead()
	<-readDone
	if err == nil {
		err = readErr
	}
	return err
}

// send writes one message a tick until ctx ends (nil), the reader stops or
// a write fails.
func (f *feeder) send(ctx context.Context, conn *websocket.Conn, readDone <-chan struct{}) error {
	tick := time.NewTicker(time.Duration(float64(time.Second) / f.opts.Rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-readDone:
			return nil
		case <-tick.C:
		}
		f.seq++
		f.buf = f.aud.AppendNextSeq(f.buf[:0], f.prefix, f.seq, time.Now().UnixMilli())
		if s := f.aud.Scene(); s != f.scene {
			f.scene = s
			if s != KindChat {
				f.logf("scene: %s", sceneTitle(s))
			}
		}
		if err := conn.Write(ctx, websocket.MessageText, f.buf); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

func sceneTitle(k Kind) string {
	switch k {
	case KindSpam:
		return "spam wave"
	case KindCopypasta:
		return "copypasta raid"
	case KindTroll:
		return "a troll"
	case KindAgent:
		return "viewers asking for an agent"
	}
	return k.String()
}

// readFrames reads acks and error frames until the connection ends.
func (f *feeder) readFrames(ctx context.Context, conn *websocket.Conn) error {
	var buf []byte
	for {
		var err error
		buf, err = readFrame(ctx, conn, buf[:0])
		if err != nil {
			return err
		}
		eachLine(buf, func(line []byte) {
			fr := parseServerFrame(line)
			if fr.isError {
				f.logf("server refused %s: %s", fr.id, fr.errText)
			}
		})
	}
}

// readFrame appends the next websocket message to buf.
func readFrame(ctx context.Context, conn *websocket.Conn, buf []byte) ([]byte, error) {
	_, r, err := conn.Reader(ctx)
	if err != nil {
		return buf, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// eachLine calls fn for every non-empty line of b.
func eachLine(b []byte, fn func([]byte)) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n') // vectorized: the subscriber reads every decision
		if i < 0 {
			i = len(b)
		}
		if line := trimSpace(b[:i]); len(line) > 0 {
			fn(line)
		}
		if i == len(b) {
			return
		}
		b = b[i+1:]
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\r' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// endpointURL joins the server base with path and the stream (and view)
// query.
func endpointURL(base, path, stream, view string) (string, error) {
	if base == "" {
		return "", errors.New("no server URL: give ws://host:port")
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("server URL %q: %w", base, err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return "", fmt.Errorf("server URL %q: want ws://host:port or wss://host:port", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	q := url.Values{"stream": {stream}}
	if view != "" {
		q.Set("view", view)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func authHeader(token string) http.Header {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// fatalStatus tells a handshake refusal that retrying will not fix.
func fatalStatus(code int) bool {
	return code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusNotFound
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
