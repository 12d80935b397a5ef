package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// ingestConn is the client side of one ingest websocket, built on
// gobwas/ws's frame primitives instead of a message-level library so that
// the load generator can put several frames into one write: a closed loop
// at one message per frame otherwise spends most of the bench's CPU in one
// system call per frame, CPU the server it shares the machine with then
// lacks. Each message is still its own frame to the server.
type ingestConn struct {
	conn net.Conn
	br   *bufio.Reader
	rng  *rand.Rand // masks: RFC 6455 wants them unpredictable to proxies, not secret

	wmu  sync.Mutex // frames of one write never interleave with a pong
	hdr  [ws.MaxHeaderSize]byte
	rhdr [ws.MaxHeaderSize]byte // owned by the reader
}

// closeError is a close frame from the server.
type closeError struct {
	code   ws.StatusCode
	reason string
}

func (e *closeError) Error() string {
	return fmt.Sprintf("connection closed by the server: %d %s", e.code, e.reason)
}

// closedNormally reports whether err is a normal close from the server.
func closedNormally(err error) bool {
	var ce *closeError
	return errors.As(err, &ce) && ce.code == ws.StatusNormalClosure
}

func dialIngest(ctx context.Context, u, token string) (*ingestConn, error) {
	d := ws.Dialer{
		Header:  ws.HandshakeHeaderHTTP(authHeader(token)),
		Timeout: 10 * time.Second,
	}
	conn, br, _, err := d.Dial(ctx, u)
	if err != nil {
		var se ws.StatusError
		errors.As(err, &se)
		return nil, dialError("ingest", u, "ingest", int(se), err)
	}
	if br == nil { // the server sent nothing after the handshake yet
		br = bufio.NewReaderSize(conn, 4096)
	}
	return &ingestConn{conn: conn, br: br, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}, nil
}

// appendFrame appends payload to b as one masked text frame (a client's
// frames must be masked) and returns the extended slice.
func (c *ingestConn) appendFrame(b, payload []byte, op ws.OpCode) []byte {
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], c.rng.Uint32())
	h := ws.Header{Fin: true, OpCode: op, Masked: true, Mask: mask, Length: int64(len(payload))}
	w := appendWriter{b}
	ws.WriteHeaderBuffer(&w, h, c.hdr[:]) // appending cannot fail
	b = w.b
	start := len(b)
	b = append(b, payload...)
	ws.Cipher(b[start:], mask, 0)
	return b
}

// write writes frames (made with appendFrame) in one system call.
func (c *ingestConn) write(frames []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn.Write(frames)
	return err
}

// writeControl writes one control frame.
func (c *ingestConn) writeControl(op ws.OpCode, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn.Write(c.appendFrame(nil, payload, op))
	return err
}

// readMessage reads the next data message into buf[:0] and returns it,
// answering pings on the way. A close from the server is a *closeError.
func (c *ingestConn) readMessage(buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		h, err := ws.ReadHeaderBuffer(c.br, c.rhdr[:])
		if err != nil {
			return buf, err
		}
		if h.Length > maxFrameBytes || int64(len(buf))+h.Length > maxFrameBytes {
			return buf, fmt.Errorf("server frame of %d bytes: over the bench's limit of %d", h.Length, maxFrameBytes)
		}
		n := int(h.Length)
		if h.OpCode.IsControl() {
			p := make([]byte, n)
			if _, err := io.ReadFull(c.br, p); err != nil {
				return buf, err
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpPing:
				if err := c.writeControl(ws.OpPong, p); err != nil {
					return buf, err
				}
			case ws.OpClose:
				code, reason := ws.ParseCloseFrameData(p)
				c.writeControl(ws.OpClose, ws.NewCloseFrameBody(code, "")) // the reply; the server may be gone
				return buf, &closeError{code: code, reason: reason}
			}
			continue
		}
		start := len(buf)
		buf = slices.Grow(buf, n)[:start+n]
		if _, err := io.ReadFull(c.br, buf[start:]); err != nil {
			return buf, err
		}
		if h.Masked {
			ws.Cipher(buf[start:], h.Mask, 0)
		}
		if h.Fin {
			return buf, nil
		}
	}
}

// close sends a normal close frame; the reader ends when the server's
// reply arrives, and closeNow ends the rest.
func (c *ingestConn) close(reason string) error {
	return c.writeControl(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, reason))
}

func (c *ingestConn) closeNow() error { return c.conn.Close() }

// appendWriter is an io.Writer that appends to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
