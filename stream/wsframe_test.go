package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// rawClient is an ingest client that writes frames as given (masked or
// not, fragmented, broken), to test what coder/websocket's client would
// never send.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func (r *rig) rawDial(path string, header http.Header) *rawClient {
	r.t.Helper()
	d := ws.Dialer{Timeout: 5 * time.Second}
	if header != nil {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	nc, br, _, err := d.Dial(context.Background(), "ws"+strings.TrimPrefix(r.srv.URL, "http")+path)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { nc.Close() })
	if br == nil {
		br = bufio.NewReader(nc)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: r.t, nc: nc, br: br}
}

// send writes one frame, masked when mask is true.
func (c *rawClient) send(op ws.OpCode, fin, mask bool, p []byte) {
	c.t.Helper()
	f := ws.NewFrame(op, fin, append([]byte(nil), p...))
	if mask {
		f = ws.MaskFrameInPlace(f)
	}
	if err := ws.WriteFrame(c.nc, f); err != nil {
		c.t.Fatal(err)
	}
}

// next reads the server's next frame.
func (c *rawClient) next() (ws.Header, []byte) {
	c.t.Helper()
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		c.t.Fatalf("read header: %v", err)
	}
	if h.Masked {
		c.t.Fatalf("the server masked a frame: %+v", h)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		c.t.Fatalf("read payload: %v", err)
	}
	return h, p
}

// closed reads frames until a close and returns its code and reason.
func (c *rawClient) closed() (ws.StatusCode, string) {
	c.t.Helper()
	for {
		h, p := c.next()
		if h.OpCode == ws.OpClose {
			code, reason := ws.ParseCloseFrameData(p)
			return code, reason
		}
	}
}

// TestIngestFragmentedMessage: a message in three fragments, with a ping
// and a pong between them, is one message; the ping is answered with its
// payload, before the ack.
func TestIngestFragmentedMessage(t *testing.T) {
	r := newRig(t, IngestOptions{AckDelay: -1}, HubOptions{})
	c := r.rawDial("/v1/ingest?stream=show", nil)
	m := []byte(msgJSON("m-1", "u1", "hello there"))
	c.send(ws.OpText, false, true, m[:5])
	c.send(ws.OpPing, true, true, []byte("are you there"))
	c.send(ws.OpContinuation, false, true, m[5:12])
	c.send(ws.OpPong, true, true, []byte("unasked"))
	c.send(ws.OpContinuation, true, true, m[12:])
	h, p := c.next()
	if h.OpCode != ws.OpPong || string(p) != "are you there" {
		t.Fatalf("first answer %v %q, want the pong", h.OpCode, p)
	}
	h, p = c.next()
	if h.OpCode != ws.OpText || !h.Fin || !strings.Contains(string(p), `"type":"ack","upto":"m-1","n":1`) {
		t.Fatalf("second answer %v %q, want the ack of m-1", h.OpCode, p)
	}
	// A binary message is answered with an error frame, as before.
	c.send(ws.OpBinary, true, true, m)
	if _, p := c.next(); !strings.Contains(string(p), "binary frames are not accepted") {
		t.Fatalf("answer to a binary frame %q", p)
	}
	// The client closes; the server echoes its code and reason.
	c.send(ws.OpClose, true, true, ws.NewCloseFrameBody(4001, "bye"))
	if code, reason := c.closed(); code != 4001 || reason != "bye" {
		t.Fatalf("close echoed as %d %q, want 4001 bye", code, reason)
	}
}

// TestIngestFrameProtocolErrors: what breaks RFC 6455 is closed with a
// protocol error (1002), what is too big with a policy violation naming
// the setting.
func TestIngestFrameProtocolErrors(t *testing.T) {
	m := []byte(msgJSON("m-1", "u1", "hi"))
	cases := []struct {
		name   string
		send   func(c *rawClient)
		code   ws.StatusCode
		reason string
	}{
		{"unmasked", func(c *rawClient) { c.send(ws.OpText, true, false, m) }, ws.StatusProtocolError, "unmasked"},
		{"continuation first", func(c *rawClient) { c.send(ws.OpContinuation, true, true, m) }, ws.StatusProtocolError, "continuation frame without"},
		{"new message within one", func(c *rawClient) {
			c.send(ws.OpText, false, true, m[:3])
			c.send(ws.OpText, true, true, m)
		}, ws.StatusProtocolError, "without finishing"},
		{"fragmented ping", func(c *rawClient) { c.send(ws.OpPing, false, true, nil) }, ws.StatusProtocolError, "fragmented control"},
		{"long ping", func(c *rawClient) { c.send(ws.OpPing, true, true, make([]byte, 126)) }, ws.StatusProtocolError, "invalid length: 126"},
		{"reserved opcode", func(c *rawClient) { c.send(ws.OpCode(0xB), true, true, nil) }, ws.StatusProtocolError, "unknown opcode"},
		{"rsv bit", func(c *rawClient) {
			f := ws.MaskFrameInPlace(ws.NewTextFrame(append([]byte(nil), m...)))
			f.Header.Rsv = ws.Rsv(true, false, false)
			ws.WriteFrame(c.nc, f)
		}, ws.StatusProtocolError, "rsv bits"},
		{"close code not for the wire", func(c *rawClient) { c.send(ws.OpClose, true, true, ws.NewCloseFrameBody(1005, "")) }, ws.StatusProtocolError, "invalid close payload"},
		{"close of one byte", func(c *rawClient) { c.send(ws.OpClose, true, true, []byte{3}) }, ws.StatusProtocolError, "too small"},
		{"oversize frame", func(c *rawClient) { c.send(ws.OpText, true, true, bytes.Repeat([]byte{' '}, 1025)) }, ws.StatusPolicyViolation, "frame over 1024 bytes (ingest.max_frame_bytes)"},
		{"oversize in fragments", func(c *rawClient) {
			c.send(ws.OpText, false, true, bytes.Repeat([]byte{' '}, 1000))
			c.send(ws.OpContinuation, true, true, bytes.Repeat([]byte{' '}, 25))
		}, ws.StatusPolicyViolation, "frame over 1024 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, IngestOptions{MaxFrameBytes: 1024}, HubOptions{})
			c := r.rawDial("/v1/ingest?stream=show", nil)
			tc.send(c)
			code, reason := c.closed()
			if code != tc.code || !strings.Contains(reason, tc.reason) {
				t.Fatalf("closed with %d %q, want %d and %q", code, reason, tc.code, tc.reason)
			}
			// The server then closes the socket (at once after a
			// protocol error, after our close for the others).
			if tc.code != ws.StatusProtocolError {
				c.send(ws.OpClose, true, true, ws.NewCloseFrameBody(tc.code, ""))
			}
			// (A reset when it left bytes unread.)
			_, err := io.Copy(io.Discard, c.br)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("socket not closed by the server: %v", err)
			}
		})
	}
}

// TestIngestOversizeCounted: an oversize message in fragments is counted
// like one in a frame.
func TestIngestOversizeCounted(t *testing.T) {
	r := newRig(t, IngestOptions{MaxFrameBytes: 100}, HubOptions{})
	c := r.rawDial("/v1/ingest?stream=show", nil)
	c.send(ws.OpText, false, true, make([]byte, 60))
	c.send(ws.OpContinuation, false, true, make([]byte, 40)) // exactly at the limit
	c.send(ws.OpContinuation, true, true, make([]byte, 1))
	if code, _ := c.closed(); code != ws.StatusPolicyViolation {
		t.Fatalf("closed with %d, want 1008", code)
	}
	if v := testutil.ToFloat64(r.metrics.IngestClosed.WithLabelValues("oversize")); v != 1 {
		t.Errorf("oversize closes = %v, want 1", v)
	}
}

// TestIngestHandshakeChecks: requests coder/websocket refused are refused
// with the same status.
func TestIngestHandshakeChecks(t *testing.T) {
	r := newRig(t, IngestOptions{OriginPatterns: []string{"*.example.com"}}, HubOptions{})
	good := func() *http.Request {
		req, _ := http.NewRequest("GET", r.srv.URL+"/v1/ingest?stream=show", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		return req
	}
	cases := []struct {
		name string
		edit func(*http.Request)
		want int
	}{
		{"no upgrade", func(q *http.Request) { q.Header.Del("Upgrade") }, http.StatusUpgradeRequired},
		{"post", func(q *http.Request) { q.Method = "POST" }, http.StatusMethodNotAllowed},
		{"version", func(q *http.Request) { q.Header.Set("Sec-WebSocket-Version", "8") }, http.StatusBadRequest},
		{"key", func(q *http.Request) { q.Header.Set("Sec-WebSocket-Key", "short") }, http.StatusBadRequest},
		{"foreign origin", func(q *http.Request) { q.Header.Set("Origin", "https://evil.test") }, http.StatusForbidden},
		{"allowed origin", func(q *http.Request) { q.Header.Set("Origin", "https://chat.example.com") }, http.StatusSwitchingProtocols},
		{"own origin", func(q *http.Request) { q.Header.Set("Origin", "http://"+q.Host) }, http.StatusSwitchingProtocols},
	}
	for _, tc := range cases {
		req := good()
		tc.edit(req)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusSwitchingProtocols && resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
			t.Errorf("%s: accept %q", tc.name, resp.Header.Get("Sec-WebSocket-Accept"))
		}
	}
}

// frameBytes is frames as a client sends them (masked).
func frameBytes(frames ...ws.Frame) []byte {
	var b bytes.Buffer
	for _, f := range frames {
		f.Payload = append([]byte(nil), f.Payload...)
		ws.WriteFrame(&b, ws.MaskFrameInPlace(f))
	}
	return b.Bytes()
}

// readEvents feeds in to a frameReader in pieces of step bytes (as reads
// would return them) and lists what it finds, ending at the first error.
func readEvents(in []byte, step, max int) []string {
	f := newFrameReader(max)
	var out []string
	for len(in) > 0 {
		space := f.space()
		n := copy(space, in[:min(step, len(in))])
		in = in[n:]
		f.w += n
		for {
			ev, op, p, err := f.next()
			if err != nil {
				return append(out, "error: "+err.Error())
			}
			if ev == frameMore {
				if f.want > max+ws.MaxHeaderSize {
					return append(out, fmt.Sprintf("error: wants %d bytes", f.want))
				}
				break
			}
			if ev == frameMessage && len(p) > max {
				return append(out, fmt.Sprintf("error: message of %d bytes", len(p)))
			}
			out = append(out, fmt.Sprintf("%d %x", op, p))
		}
	}
	return out
}

func TestFrameReaderSplitReads(t *testing.T) {
	in := frameBytes(
		ws.NewTextFrame([]byte("one")),
		ws.NewFrame(ws.OpText, false, []byte("t")),
		ws.NewPingFrame([]byte("p")),
		ws.NewFrame(ws.OpContinuation, false, []byte("w")),
		ws.NewFrame(ws.OpContinuation, true, []byte("o")),
		ws.NewBinaryFrame(bytes.Repeat([]byte("b"), 300)),
		ws.NewTextFrame(bytes.Repeat([]byte("l"), 70000)), // a 64-bit length, a grown buffer
		ws.NewCloseFrame(ws.NewCloseFrameBody(1000, "")),
	)
	want := readEvents(in, len(in), 1<<20)
	if len(want) != 6 {
		t.Fatalf("read whole: %d events, want 6: %.60q", len(want), want)
	}
	if want[0] != fmt.Sprintf("1 %x", "one") || want[2] != fmt.Sprintf("1 %x", "two") {
		t.Fatalf("messages %.40q", want)
	}
	for _, step := range []int{1, 2, 3, 7, 100, 8191} {
		got := readEvents(in, step, 1<<20)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("read %d bytes at a time: events differ", step)
		}
	}
	if got := readEvents(in, 5, 1000); got[len(got)-1] != "error: oversize" {
		t.Errorf("with a limit of 1000: last event %.60q, want oversize", got[len(got)-1])
	}
}

// FuzzFrameReader: any bytes give the same frames whether they arrive at
// once or in pieces, no message over the limit, no buffer beyond it, and
// never a panic.
func FuzzFrameReader(f *testing.F) {
	f.Add(frameBytes(ws.NewTextFrame([]byte(`{"id":"m","text":"hi"}`))), uint8(1))
	f.Add(frameBytes(ws.NewFrame(ws.OpText, false, []byte("ab")), ws.NewPingFrame(nil), ws.NewFrame(ws.OpContinuation, true, []byte("c"))), uint8(3))
	f.Add(frameBytes(ws.NewCloseFrame(ws.NewCloseFrameBody(1001, "away"))), uint8(2))
	f.Add([]byte{0x81, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}, uint8(5))
	f.Add([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}, uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		const max = 512
		want := readEvents(in, len(in)+1, max)
		got := readEvents(in, int(step)%16+1, max)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("in pieces of %d: %q, at once: %q", int(step)%16+1, got, want)
		}
		for _, e := range want {
			if strings.HasPrefix(e, "error: wants") || strings.HasPrefix(e, "error: message of") {
				t.Fatal(e)
			}
		}
	})
}

// BenchmarkFrameRead: finding a frame of one chat message in bytes read,
// unmasking it; what ingest's reader adds to a read(2) per frame.
func BenchmarkFrameRead(b *testing.B) {
	frame := frameBytes(ws.NewTextFrame([]byte(msgJSON("m-123456", "user-42", "a message of ordinary length, seen in chat all day"))))
	const per = 64
	in := bytes.Repeat(frame, per)
	f := newFrameReader(64 << 10)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for i := 0; i < b.N; i += per {
		f.r, f.w = 0, copy(f.buf, in)
		for {
			ev, _, _, err := f.next()
			if err != nil {
				b.Fatal(err)
			}
			if ev == frameMore {
				break
			}
		}
	}
}

// BenchmarkIngestConnRead: frames of one message each through a loopback
// TCP socket into wsConn.run, as ingest reads them (the read(2)s
// included).
func BenchmarkIngestConnRead(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	frame := frameBytes(ws.NewTextFrame([]byte(msgJSON("m-123456", "user-42", "a message of ordinary length, seen in chat all day"))))
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		for i := 0; i < b.N; i++ {
			if _, err := c.Write(frame); err != nil {
				return
			}
		}
	}()
	nc, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	c := &wsConn{nc: nc, fr: newFrameReader(64 << 10)}
	c.raw, _ = nc.(*net.TCPConn).SyscallConn()
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	n := 0
	c.run(func(op ws.OpCode, p []byte) bool {
		n++
		return n < b.N
	})
	if n != b.N {
		b.Fatalf("read %d frames, want %d", n, b.N)
	}
}

// TestCloseBody: a reason too long for a close frame is dropped and the
// code made an internal error, as coder/websocket did.
func TestCloseBody(t *testing.T) {
	if b := closeBody(ws.StatusPolicyViolation, "x"); binary.BigEndian.Uint16(b) != 1008 || string(b[2:]) != "x" {
		t.Errorf("closeBody(1008, x) = %q", b)
	}
	if b := closeBody(ws.StatusPolicyViolation, strings.Repeat("x", 124)); binary.BigEndian.Uint16(b) != 1011 || len(b) != 2 {
		t.Errorf("closeBody with a long reason = %q", b)
	}
	if b := closeBody(ws.StatusNoStatusRcvd, ""); len(b) != 0 {
		t.Errorf("closeBody(1005) = %q, want empty", b)
	}
}

// TestWsConnWithoutRawConn: a connection that is not a plain socket (TLS)
// is read through net.Conn.Read, with the same frames, pongs and close.
func TestWsConnWithoutRawConn(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	c := &wsConn{nc: server, fr: newFrameReader(1024)}
	go func() {
		client.Write(frameBytes(
			ws.NewFrame(ws.OpText, false, []byte("he")),
			ws.NewPingFrame([]byte("p")),
			ws.NewFrame(ws.OpContinuation, true, []byte("llo")),
			ws.NewTextFrame([]byte("again")),
			ws.NewCloseFrame(ws.NewCloseFrameBody(1000, "done")),
		))
	}()
	answers := make(chan ws.Frame, 4)
	go func() {
		for {
			f, err := ws.ReadFrame(client)
			if err != nil {
				close(answers)
				return
			}
			answers <- f
		}
	}()
	var got []string
	err := c.run(func(op ws.OpCode, p []byte) bool {
		got = append(got, string(p))
		return true
	})
	if err != errPeerClosed || fmt.Sprint(got) != "[hello again]" {
		t.Fatalf("run = %v, read %q; want errPeerClosed after hello, again", err, got)
	}
	c.finish(err, ws.StatusNormalClosure, "")
	var ops []ws.OpCode
	for f := range answers {
		ops = append(ops, f.Header.OpCode)
		if f.Header.OpCode == ws.OpClose {
			if code, reason := ws.ParseCloseFrameData(f.Payload); code != 1000 || reason != "done" {
				t.Errorf("close echoed as %d %q", code, reason)
			}
		}
	}
	if fmt.Sprint(ops) != fmt.Sprint([]ws.OpCode{ws.OpPong, ws.OpClose}) {
		t.Errorf("answers %v, want a pong and the close", ops)
	}
}
