// RFC 9112 §2.1, §2.2: a response head is the status line and field lines
// up to the empty line; §6.3, §9.3: responses follow each other on a
// persistent connection.

package framing

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
)

// MaxHead bounds the response head a connection holds back to reframe:
// a head longer than MaxHead bytes, its empty line included, is passed on
// unchanged, and net/http reads it as it would without this package (its
// own bound, http.Transport.MaxResponseHeaderBytes, still applies).
const MaxHead = 64 << 10

// minRead is the least room a read from the origin gets.
const minRead = 4 << 10

// conn is a connection to the origin. While armed, which it is from the
// moment the transport hands it to a request until the final response
// head to that request has been read, the response heads it reads go
// through [Reframe]; otherwise, and always for what follows the final
// head, bytes pass through as they are. Read is called by one goroutine at
// a time (the transport's reader); arm by another.
type conn struct {
	net.Conn

	mu     sync.Mutex
	armed  bool
	method string // of the request armed for

	// Owned by the goroutine that reads.
	buf  []byte // reused storage of in
	in   []byte // read from Conn, not yet passed on: a head being assembled while armed, else bytes to pass on as they are
	scan int    // how much of in has been searched for the end of a head
	out  []byte // a reframed head to pass on before in
	err  error  // the error of the last read of Conn, returned once in is passed on
}

func newConn(c net.Conn) *conn { return &conn{Conn: c} }

// arm makes the next bytes read begin the response to a request with
// method. The transport calls it (through httptrace's GotConn) after it
// has taken the connection for a request and before writing the request,
// so no byte of that response has arrived yet; the connection has carried
// nothing since the previous exchange ended (an HTTP/1.1 client
// connection of net/http carries one exchange at a time).
func (c *conn) arm(method string) {
	c.mu.Lock()
	c.armed, c.method = true, method
	c.mu.Unlock()
}

func (c *conn) disarm() {
	c.mu.Lock()
	c.armed = false
	c.mu.Unlock()
}

func (c *conn) state() (armed bool, method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.armed, c.method
}

// Read reads from the connection; while armed, it holds back each
// response head until it is complete and passes it through [Reframe].
//
// When nothing is held back, Read reads into p itself: a head that
// arrives whole, in one read, is reframed where it lies, and when Reframe
// leaves it as it is (as it does most heads) it is passed on with the
// bytes after it, uncopied. The transport's reader waits in Read between
// exchanges, unarmed, so that most responses begin in a read that was
// waiting when the connection was armed.
func (c *conn) Read(p []byte) (int, error) {
	for {
		if len(c.out) > 0 {
			n := copy(p, c.out)
			c.out = c.out[n:]
			return n, nil
		}
		if len(c.in) == 0 && c.err == nil {
			n, err := c.Conn.Read(p)
			armed, method := c.state()
			if n == 0 || !armed {
				return n, err
			}
			// Armed: these bytes begin a response head.
			end := headEnd(p[:min(n, MaxHead)], 0)
			if end < 0 {
				// Not a whole head: hold it back until it is.
				c.hold(p[:n], err)
				c.scan = n
				continue
			}
			out, r := Reframe(p[:end], method)
			interim := r.Interim()
			if !interim {
				c.disarm() // the rest is content, or a tunnel after 101
			}
			asIs := &out[0] == &p[0] // Reframe returned the head itself
			if asIs && !interim {
				return n, err // the head and what follows it, as they are
			}
			c.hold(p[end:n], err)
			if asIs {
				return end, nil // another head follows, held back in in
			}
			c.out = out
			continue
		}
		armed, method := c.state()
		if !armed {
			if len(c.in) > 0 {
				n := copy(p, c.in)
				c.in = c.in[n:]
				return n, nil
			}
			err := c.err
			c.err = nil
			return 0, err
		}
		if end := headEnd(c.in[:min(len(c.in), MaxHead)], c.scan); end >= 0 {
			out, r := Reframe(c.in[:end], method)
			c.in, c.scan = c.in[end:], 0
			if !r.Interim() {
				c.disarm() // the rest is content, or a tunnel after 101
			}
			c.out = out
			continue
		}
		c.scan = min(len(c.in), MaxHead)
		if c.err != nil || len(c.in) >= MaxHead {
			// The head will not end here: pass on what came as it is.
			c.disarm()
			continue
		}
		c.fill()
	}
}

// hold keeps b, bytes read from Conn and not passed on, and err, the
// error of that read, in in and err, which are empty. It copies b into
// buf: b is the caller's, for one Read.
func (c *conn) hold(b []byte, err error) {
	c.in = append(c.buf[:0], b...)
	c.buf, c.scan, c.err = c.in[:0], 0, err
}

// fill reads once from the connection into in, which holds at least one
// byte and less than MaxHead, up to MaxHead bytes. It is called only when
// out is empty.
func (c *conn) fill() {
	if room := min(max(2*len(c.in), minRead), MaxHead); cap(c.in) < room {
		c.in = slices.Grow(c.in, room-len(c.in))
		c.buf = c.in[:0]
	}
	n, err := c.Conn.Read(c.in[len(c.in):min(cap(c.in), MaxHead)])
	c.in, c.err = c.in[:len(c.in)+n], err
}

// CloseWrite shuts down the writing side of the connection, when the
// underlying connection can (a tunnel after 101 Switching Protocols uses
// it).
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("framing: CloseWrite: %w", http.ErrNotSupported)
}

// headEnd returns the length of the response head at the start of b: the
// status line and field lines through the empty line that ends them (RFC
// 9112 §2.1), with lines ending in CRLF or a bare LF as net/http reads
// them (§2.2). It returns -1 when b holds no complete head. from is how
// much of b an earlier call searched (0 at first), so that a head arriving
// in pieces is searched once.
func headEnd(b []byte, from int) int {
	i := max(min(from, len(b))-2, 0)
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		j += i
		switch {
		case j+1 < len(b) && b[j+1] == '\n':
			return j + 2
		case j+2 < len(b) && b[j+1] == '\r' && b[j+2] == '\n':
			return j + 3
		}
		i = j + 1
	}
}
