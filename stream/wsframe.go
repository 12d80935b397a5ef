package stream

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// Ingest reads its websocket frames itself, on the hijacked connection,
// instead of through coder/websocket (which every other endpoint keeps).
// At one message per frame the reader's own cost was a fifth of reading a
// frame: a lock taken through a three-way select per read, a header read
// byte by byte through bufio, three wrapped readers. Here a frame is
// parsed out of one buffer that a read(2) filled, and on a plain TCP
// connection the reads run inside one syscall.RawConn.Read: after a read
// that left the socket empty the next wait goes straight to the poller,
// where a net.Conn.Read would first make a read(2) that finds nothing.
//
// What a client sees is what coder/websocket did: the same handshake
// checks and status codes, pings answered, a close echoed, protocol errors
// closed with 1002, a close from the server followed by waiting up to
// closeHandshakeTimeout for the client's.

// closeHandshakeTimeout is how long a close waits for the client's close
// frame (and for the close frame to be written), as coder/websocket did.
const closeHandshakeTimeout = 5 * time.Second

// readBufferBytes is the read buffer's starting size; it grows to hold the
// largest frame read (at most MaxFrameBytes and a header).
const readBufferBytes = 8 << 10

// maxControlPayload is the largest payload of a ping, pong or close.
const maxControlPayload = 125

// frameError is a protocol error: the connection is closed with code.
type frameError struct {
	code   ws.StatusCode
	reason string
}

func (e *frameError) Error() string { return e.reason }

func protocolError(format string, args ...any) error {
	return &frameError{code: ws.StatusProtocolError, reason: fmt.Sprintf(format, args...)}
}

// errPeerClosed ends reading when the client's close frame came.
var errPeerClosed = errors.New("websocket: close frame received")

// frame events returned by frameReader.next.
const (
	frameMore    = iota // the buffer holds no whole frame: read more
	frameMessage        // a whole text or binary message
	frameControl        // a ping, pong or close
)

// frameReader finds frames in bytes read from a client: it does no I/O
// itself, so that the same code serves a RawConn's callback, a net.Conn,
// and the fuzz test.
type frameReader struct {
	max int // the largest message, in payload bytes

	buf  []byte // buf[r:w] is read and not yet parsed
	r, w int
	want int // frameMore: buf[r:] must hold this many bytes for the next frame

	hr  bytes.Reader // over buf[r:w], for ws.ReadHeaderBuffer
	hdr [ws.MaxHeaderSize]byte

	op   ws.OpCode // the message being assembled from fragments; 0: none
	msg  []byte    // its payload so far
	skip int64     // payload bytes still to drop (of a frame read while closing)

	// closing: a close was sent; data frames are dropped until the
	// client's close frame comes.
	closing bool
}

func newFrameReader(max int) *frameReader {
	return &frameReader{max: max, buf: make([]byte, readBufferBytes)}
}

// next returns the next frame event in the bytes read: frameMore when a
// whole frame is not there yet, otherwise the message or control frame
// and its payload (unmasked). The payload is valid until the next call.
// An error is a frameError or errOversize; the reader is then done.
func (f *frameReader) next() (int, ws.OpCode, []byte, error) {
	for {
		if f.skip > 0 {
			n := min(f.skip, int64(f.w-f.r))
			f.r += int(n)
			f.skip -= n
			if f.skip > 0 {
				f.want = 0
				return frameMore, 0, nil, nil
			}
		}
		f.hr.Reset(f.buf[f.r:f.w])
		h, err := ws.ReadHeaderBuffer(&f.hr, f.hdr[:])
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			f.want = ws.MaxHeaderSize
			return frameMore, 0, nil, nil
		case err != nil:
			return 0, 0, nil, protocolError("invalid frame header: %v", err)
		}
		hn := f.w - f.r - f.hr.Len()
		if h.Rsv != 0 {
			return 0, 0, nil, protocolError("received header with unexpected rsv bits set: %v:%v:%v", h.Rsv1(), h.Rsv2(), h.Rsv3())
		}
		if !h.Masked {
			return 0, 0, nil, protocolError("received unmasked frame from client")
		}
		switch op := h.OpCode; {
		case op.IsReserved():
			return 0, 0, nil, protocolError("received unknown opcode %v", byte(op))
		case op.IsControl():
			if h.Length > maxControlPayload {
				return 0, 0, nil, protocolError("received control frame payload with invalid length: %d", h.Length)
			}
			if !h.Fin {
				return 0, 0, nil, protocolError("received fragmented control frame")
			}
		case f.closing:
			// Data after our close is not read: its payload is dropped as
			// it arrives, whatever its size.
			f.r += hn
			f.skip = h.Length
			continue
		case op == ws.OpContinuation:
			if f.op == 0 {
				return 0, 0, nil, protocolError("received continuation frame without text or binary frame")
			}
			if h.Length > int64(f.max-len(f.msg)) {
				return 0, 0, nil, errOversize
			}
		default: // text or binary
			if f.op != 0 {
				return 0, 0, nil, protocolError("received new data message without finishing the previous message")
			}
			if h.Length > int64(f.max) {
				return 0, 0, nil, errOversize
			}
		}
		need := hn + int(h.Length)
		if f.w-f.r < need {
			f.want = need
			return frameMore, 0, nil, nil
		}
		p := f.buf[f.r+hn : f.r+need]
		f.r += need
		ws.Cipher(p, h.Mask, 0)
		switch {
		case h.OpCode.IsControl():
			return frameControl, h.OpCode, p, nil
		case h.OpCode != ws.OpContinuation && h.Fin:
			return frameMessage, h.OpCode, p, nil // the common case: no copy
		case h.OpCode != ws.OpContinuation:
			f.op, f.msg = h.OpCode, append(f.msg[:0], p...)
		default:
			f.msg = append(f.msg, p...)
			if h.Fin {
				op := f.op
				f.op = 0
				return frameMessage, op, f.msg, nil
			}
		}
	}
}

// space makes room for what the next frame wants and returns where the
// next read goes (never empty).
func (f *frameReader) space() []byte {
	if f.r == f.w {
		f.r, f.w = 0, 0
	}
	if need := f.r + f.want; need > len(f.buf) || f.w == len(f.buf) {
		if f.want > len(f.buf) {
			// The frame is bigger than the buffer (at most max and a
			// header, checked from its header): grow to hold it.
			b := make([]byte, f.want)
			f.w = copy(b, f.buf[f.r:f.w])
			f.buf, f.r = b, 0
		} else {
			f.w = copy(f.buf, f.buf[f.r:f.w])
			f.r = 0
		}
	}
	return f.buf[f.w:]
}

// wsConn is an ingest websocket connection on its hijacked net.Conn.
// One goroutine reads (run); any may write and close.
type wsConn struct {
	nc  net.Conn
	raw syscall.RawConn // nil: not a plain socket (TLS); reads go through nc
	fr  *frameReader

	wmu       sync.Mutex
	wbuf      appendWriter // the frame being written
	hdr       [ws.MaxHeaderSize]byte
	closeSent bool // no data frame may follow

	closed atomic.Bool // nc is closed
}

// upgradeIngest checks the handshake as coder/websocket's Accept does
// (same status codes for a bad request or origin) and upgrades with
// gobwas/ws. On failure the response has been written.
func upgradeIngest(w http.ResponseWriter, r *http.Request, originPatterns []string, maxMessage int) (*wsConn, error) {
	if code, err := verifyUpgrade(w, r); err != nil {
		http.Error(w, err.Error(), code)
		return nil, err
	}
	if err := checkOrigin(r, originPatterns); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return nil, err
	}
	// Headers set by the handlers around (as coder/websocket wrote them).
	nc, rw, _, err := ws.HTTPUpgrader{Header: w.Header()}.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		return nil, err
	}
	c := &wsConn{nc: nc, fr: newFrameReader(maxMessage)}
	// Frames the client sent right behind its request are in the HTTP
	// server's buffer.
	if rw != nil && rw.Reader.Buffered() > 0 {
		b, _ := rw.Reader.Peek(rw.Reader.Buffered())
		if len(b) > len(c.fr.buf) {
			c.fr.buf = make([]byte, len(b))
		}
		c.fr.w = copy(c.fr.buf, b)
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	return c, nil
}

// verifyUpgrade is coder/websocket's check of an upgrade request.
func verifyUpgrade(w http.ResponseWriter, r *http.Request) (int, error) {
	if !r.ProtoAtLeast(1, 1) {
		return http.StatusUpgradeRequired, fmt.Errorf("WebSocket protocol violation: handshake request must be at least HTTP/1.1: %q", r.Proto)
	}
	if !headerHasToken(r.Header, "Connection", "Upgrade") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, fmt.Errorf("WebSocket protocol violation: Connection header %q does not contain Upgrade", r.Header.Get("Connection"))
	}
	if !headerHasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, fmt.Errorf("WebSocket protocol violation: Upgrade header %q does not contain websocket", r.Header.Get("Upgrade"))
	}
	if r.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, fmt.Errorf("WebSocket protocol violation: handshake request method is not GET but %q", r.Method)
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return http.StatusBadRequest, fmt.Errorf("unsupported WebSocket protocol version (only 13 is supported): %q", r.Header.Get("Sec-WebSocket-Version"))
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) == 0 {
		return http.StatusBadRequest, errors.New("WebSocket protocol violation: missing Sec-WebSocket-Key")
	}
	if len(keys) > 1 {
		return http.StatusBadRequest, errors.New("WebSocket protocol violation: multiple Sec-WebSocket-Key headers")
	}
	key := strings.TrimSpace(keys[0])
	if v, err := base64.StdEncoding.DecodeString(key); err != nil || len(v) != 16 {
		return http.StatusBadRequest, fmt.Errorf("WebSocket protocol violation: invalid Sec-WebSocket-Key %q, must be a 16 byte base64 encoded string", key)
	}
	return 0, nil
}

// checkOrigin is coder/websocket's origin check: no Origin, the request's
// own host, or one of patterns (path.Match, case folded; a pattern with a
// scheme matches scheme://host).
func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		return fmt.Errorf("failed to parse Origin header %q: %w", origin, err)
	}
	if strings.EqualFold(r.Host, u.Host) {
		return nil
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		ok, err := path.Match(strings.ToLower(p), strings.ToLower(target))
		if err != nil {
			log.Printf("websocket: failed to parse path pattern %q: %v", p, err)
			return errors.New(http.StatusText(http.StatusForbidden))
		}
		if ok {
			return nil
		}
	}
	if u.Host == "" {
		return fmt.Errorf("request Origin %q is not a valid URL with a host", origin)
	}
	return fmt.Errorf("request Origin %q is not authorized for Host %q", u.Host, r.Host)
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h[textproto.CanonicalMIMEHeaderKey(key)] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// run reads messages and hands each to handle until handle returns false
// (run then returns nil), the client closes (errPeerClosed), breaks the
// protocol (a frameError, after the close was sent), sends a message over
// the limit (errOversize, nothing sent), or the connection fails. Pings
// are answered and a client's close is echoed here.
func (c *wsConn) run(handle func(op ws.OpCode, p []byte) bool) error {
	if c.fr.w > 0 { // bytes that came with the handshake
		if done, err := c.frames(handle); done {
			return err
		}
	}
	if c.raw == nil {
		for {
			n, err := c.nc.Read(c.fr.space())
			c.fr.w += n
			if n > 0 {
				if done, err := c.frames(handle); done {
					return err
				}
			}
			if err != nil {
				return err
			}
		}
	}
	var (
		result  error
		drained bool // the last read(2) left the socket empty
	)
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			if drained {
				// Anything that arrived after that read woke the poller:
				// wait for it without a read(2) that would find nothing.
				// (Only within this one RawConn.Read: a new one forgets
				// what the poller saw.)
				drained = false
				return false
			}
			space := c.fr.space()
			n, err := syscall.Read(int(fd), space)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return false
			case err != nil:
				result = err
				return true
			case n == 0:
				result = io.EOF
				return true
			}
			drained = n < len(space)
			c.fr.w += n
			if done, err := c.frames(handle); done {
				result = err
				return true
			}
		}
	})
	if result == nil {
		result = err
	}
	return result
}

// frames handles the whole frames read; done reports that reading ends,
// with err as run returns it.
func (c *wsConn) frames(handle func(op ws.OpCode, p []byte) bool) (done bool, err error) {
	for {
		ev, op, p, err := c.fr.next()
		if err != nil {
			var fe *frameError
			if errors.As(err, &fe) {
				c.closeWith(fe.code, fe.reason)
			}
			return true, err
		}
		switch ev {
		case frameMore:
			return false, nil
		case frameMessage:
			if !handle(op, p) {
				return true, nil
			}
		case frameControl:
			switch op {
			case ws.OpPing:
				if c.fr.closing {
					continue
				}
				if err := c.write(ws.OpPong, p); err != nil {
					return true, err
				}
			case ws.OpClose:
				code, reason, ok := parseClose(p)
				if !ok {
					c.closeWith(ws.StatusProtocolError, fmt.Sprintf("received invalid close payload: %s", reason))
					return true, errPeerClosed
				}
				c.echoClose(code, reason)
				return true, errPeerClosed
			}
		}
	}
}

// parseClose reads a close frame's payload the way coder/websocket did:
// empty is "no status" (1005, echoed as an empty close), one byte or a
// code not allowed on the wire is invalid (reason then says why).
func parseClose(p []byte) (ws.StatusCode, string, bool) {
	if len(p) == 0 {
		return ws.StatusNoStatusRcvd, "", true
	}
	if len(p) < 2 {
		return 0, fmt.Sprintf("close payload %q too small, cannot even contain the 2 byte status code", p), false
	}
	code := ws.StatusCode(binary.BigEndian.Uint16(p))
	if !validCloseCode(code) {
		return 0, fmt.Sprintf("invalid status code %d", code), false
	}
	return code, string(p[2:]), true
}

func validCloseCode(code ws.StatusCode) bool {
	switch code {
	case 1004, ws.StatusNoStatusRcvd, ws.StatusAbnormalClosure, ws.StatusTLSHandshake:
		return false
	}
	return code >= 1000 && code <= 1014 || code >= 3000 && code <= 4999
}

// write sends one unfragmented frame; once a close was sent nothing more
// is (net.ErrClosed).
func (c *wsConn) write(op ws.OpCode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(op, p)
}

func (c *wsConn) writeLocked(op ws.OpCode, p []byte) error {
	if c.closeSent || c.closed.Load() {
		return net.ErrClosed
	}
	if op == ws.OpClose {
		c.closeSent = true
	}
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	w := &c.wbuf // a field: a local passed as an io.Writer is allocated
	w.b = w.b[:0]
	if err := ws.WriteHeaderBuffer(w, h, c.hdr[:]); err != nil {
		return err
	}
	if len(p) > 8<<10 {
		// A big answer (a backlog of error lines) is not copied.
		bufs := net.Buffers{w.b, p}
		_, err := bufs.WriteTo(c.nc)
		return err
	}
	w.b = append(w.b, p...)
	_, err := c.nc.Write(w.b)
	return err
}

// appendWriter is an io.Writer that appends to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// closeBody is a close frame's payload; a reason too long for a control
// frame is sent as an internal error without one, as coder/websocket did.
func closeBody(code ws.StatusCode, reason string) []byte {
	if code == ws.StatusNoStatusRcvd {
		return nil
	}
	if len(reason) > maxControlPayload-2 || !validCloseCode(code) {
		code, reason = ws.StatusInternalServerError, ""
	}
	return ws.NewCloseFrameBody(code, reason)
}

// echoClose answers the client's close with its code and reason (unless
// ours was sent first); the handshake is then done.
func (c *wsConn) echoClose(code ws.StatusCode, reason string) {
	c.closeWith(code, reason)
	c.fr.closing = true
}

// closeWith sends a close frame from the reading goroutine; the caller
// then waits for the client's (finish).
func (c *wsConn) closeWith(code ws.StatusCode, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.closeSent && !c.closed.Load() {
		c.nc.SetWriteDeadline(time.Now().Add(closeHandshakeTimeout))
		c.writeLocked(ws.OpClose, closeBody(code, reason))
	}
}

// Close closes the connection with code and reason, from any goroutine
// but the reader: the close frame is sent, and the reader, which drops
// data from then on, ends when the client's close comes or after
// closeHandshakeTimeout.
func (c *wsConn) Close(code ws.StatusCode, reason string) {
	// The deadline first: a write of answers stalled on a client that
	// does not read holds the lock, and fails by it.
	deadline := time.Now().Add(closeHandshakeTimeout)
	c.nc.SetWriteDeadline(deadline)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent || c.closed.Load() {
		return
	}
	c.writeLocked(ws.OpClose, closeBody(code, reason))
	c.nc.SetReadDeadline(deadline)
}

// finish ends the connection from the reading goroutine once it stopped
// reading with err (as run returned it): unless the client closed or
// broke the connection, a close with code and reason is sent and the
// client's close awaited, dropping what else it sends, for at most
// closeHandshakeTimeout; then the socket is closed.
func (c *wsConn) finish(err error, code ws.StatusCode, reason string) {
	var fe *frameError
	if errors.As(err, &fe) {
		// A client that broke the protocol is not waited for (its
		// close was sent by run).
		err = errPeerClosed
	}
	if !errors.Is(err, errPeerClosed) && !isNetError(err) {
		c.closeWith(code, reason)
		c.fr.closing = true
		c.nc.SetReadDeadline(time.Now().Add(closeHandshakeTimeout))
		c.fr.op, c.fr.msg = 0, nil
		c.run(func(ws.OpCode, []byte) bool { return true })
	}
	c.CloseNow()
}

// isNetError reports whether err means the socket is broken or gone: no
// close handshake is possible.
func isNetError(err error) bool {
	return err != nil && !errors.Is(err, errOversize)
}

// CloseNow closes the socket without a close frame. It takes no lock: a
// watchdog calls it to end a write that stalled holding one.
func (c *wsConn) CloseNow() {
	if !c.closed.Swap(true) {
		c.nc.Close()
	}
}
