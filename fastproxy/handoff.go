package fastproxy

import (
	"net"
	"os"
	"sync"
	"time"
)

// connQueue is the listener fasthttp serves when event loops take the
// connections first: it yields the connections the loops hand over.
type connQueue struct {
	addr   net.Addr
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
	ready  chan struct{} // a token: conns grew, or the queue closed
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, ready: make(chan struct{}, 1)}
}

// hand queues c for fasthttp, or closes it if the queue is closed.
func (q *connQueue) hand(c net.Conn) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		_ = c.Close()
		return
	}
	q.conns = append(q.conns, c)
	q.mu.Unlock()
	q.signal()
}

func (q *connQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Accept returns the next connection handed over, waiting for one.
func (q *connQueue) Accept() (net.Conn, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, net.ErrClosed
		}
		if len(q.conns) > 0 {
			c := q.conns[0]
			q.conns[0] = nil
			q.conns = q.conns[1:]
			q.mu.Unlock()
			return c, nil
		}
		q.mu.Unlock()
		<-q.ready
	}
}

// Close makes Accept fail from now on and closes the connections that
// were handed over but not yet accepted.
func (q *connQueue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	conns := q.conns
	q.conns = nil
	q.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	q.signal()
	return nil
}

// Addr returns the address of the listener the loops accept from.
func (q *connQueue) Addr() net.Addr { return q.addr }

// handedConn is a connection an event loop handed to fasthttp. The loop
// may have built responses it could not write yet (out) and read requests
// it did not answer (in): the first read writes out, in order, then
// returns in before reading the socket; or, for a connection the loop
// kept past the read timeout (timedOut), a timeout, as the socket's read
// deadline would have given fasthttp. fasthttp reads before it writes,
// so what the loop answered reaches the client before what fasthttp
// answers, and every request is answered once, in the order it came.
type handedConn struct {
	net.Conn
	out          [][]byte
	in           []byte
	timedOut     bool
	writeTimeout time.Duration
}

func (c *handedConn) Read(p []byte) (int, error) {
	if len(c.out) > 0 {
		if c.writeTimeout > 0 {
			_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
		}
		bufs := net.Buffers(c.out)
		c.out = nil
		if _, err := bufs.WriteTo(c.Conn); err != nil {
			return 0, err
		}
	}
	if len(c.in) > 0 {
		n := copy(p, c.in)
		c.in = c.in[n:]
		return n, nil
	}
	if c.timedOut {
		c.timedOut = false
		return 0, os.ErrDeadlineExceeded
	}
	return c.Conn.Read(p)
}
