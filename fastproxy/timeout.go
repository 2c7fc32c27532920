package fastproxy

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Setting a socket deadline re-arms a runtime timer; done for every
// request, as fasthttp's own timeouts do (read, idle and write), it costs
// about a tenth of what a cache hit costs in all. The front end keeps its
// timeouts itself, on each connection, to a granularity of deadlineSlack:
// a deadline is moved only when it would move by more than that, so a busy
// connection re-arms its timers about once a second, not per request.
const deadlineSlack = time.Second

// coarse is a clock read without a system call: the time, updated every
// coarseTick by one goroutine, started with the first Server's first
// connection.
var coarse struct {
	now    atomic.Int64 // unix nanoseconds
	once   sync.Once
	frozen atomic.Bool // tests: the clock stops, as a starved ticker's would
}

const coarseTick = 100 * time.Millisecond

func coarseNow() int64 {
	coarse.once.Do(func() {
		coarse.now.Store(time.Now().UnixNano())
		go func() {
			t := time.NewTicker(coarseTick)
			for now := range t.C {
				if !coarse.frozen.Load() {
					coarse.now.Store(now.UnixNano())
				}
			}
		}()
	})
	return coarse.now.Load()
}

// timedListener hands out timedConns.
type timedListener struct {
	net.Listener
	read, write time.Duration
}

func (l *timedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &timedConn{Conn: c, read: int64(l.read), write: int64(l.write)}
	tc.cycle.Store(true)
	return tc, nil
}

// timedConn bounds, with the slack above:
//   - reading: from the first read after a response was written (or the
//     connection opened), the client has the read timeout to send what the
//     server reads next; a client that trickles a request head a byte at a
//     time does not extend it (RFC 9112 §9.5 leaves the timeouts to the
//     server; this is the one nginx calls client_header_timeout, and it
//     doubles as the idle keep-alive timeout);
//   - writing: each write must complete within the write timeout from when
//     it started, so a client that stops reading is dropped, and one that
//     reads slowly may take as long as it keeps reading.
//
// While a request body streams to the origin (progress), every read that
// makes progress moves the read deadline, so an upload may take as long
// as it keeps moving.
//
// Reads come from one goroutine at a time and writes from one goroutine
// at a time, not always the same one (a streamed upload is read by the
// transport while fasthttp writes the response): readDL belongs to
// reads, writeDL to writes, and what both touch is atomic.
type timedConn struct {
	net.Conn
	read, write     int64       // nanoseconds; 0 means none
	readDL, writeDL int64       // the deadlines set, unix nanoseconds; 0 none
	cycle           atomic.Bool // the next read starts a new request
	progress        atomic.Bool // a request body streams: reads move the deadline
	off             atomic.Bool
}

func (c *timedConn) Read(p []byte) (int, error) {
	if c.off.Load() {
		return c.Conn.Read(p)
	}
	if c.read > 0 && (c.cycle.Swap(false) || c.progress.Load()) {
		if dl := coarseNow() + c.read; dl-c.readDL > int64(deadlineSlack) || dl < c.readDL {
			c.readDL = dl
			_ = c.Conn.SetReadDeadline(time.Unix(0, dl+int64(deadlineSlack)))
		}
	}
	return c.Conn.Read(p)
}

func (c *timedConn) Write(p []byte) (int, error) {
	if c.off.Load() {
		return c.Conn.Write(p)
	}
	c.cycle.Store(true)
	if c.write > 0 {
		if dl := coarseNow() + c.write; dl-c.writeDL > int64(deadlineSlack) || dl < c.writeDL {
			c.writeDL = dl
			_ = c.Conn.SetWriteDeadline(time.Unix(0, dl+int64(deadlineSlack)))
		}
	}
	return c.Conn.Write(p)
}

// release stops the bounds: the connection has been handed to the proxy
// for a protocol switch, whose own timeouts (or none) apply from now on.
func (c *timedConn) release() {
	c.off.Store(true)
	_ = c.Conn.SetDeadline(time.Time{})
}
