//go:build linux

package fastproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/valyala/fasthttp"
	"golang.org/x/sys/unix"
)

// Event loops answer plain hits without a goroutine per connection.
//
// A goroutine that reads its connection, as net/http's and fasthttp's
// servers do, reads once more after each response and finds nothing yet
// (EAGAIN), parks, and is woken by the runtime's poller when the next
// request arrives: a third system call and two scheduler hand-offs per
// request, on top of the read and the write. A loop waits for many
// connections at once (epoll, level-triggered) and reads a connection
// only when the kernel says it has bytes, as nginx does.
//
// A loop answers what it can answer from the cache alone, in full: a
// complete HTTP/1.1 GET or HEAD head, without a body, read in one pass by
// view.parse (which takes a strict part of what fasthttp's parser takes),
// whose lookup is a plain hit. Anything else
// (a miss, a revalidation, a body, HTTP/1.0, Range, a head the parser
// refuses, bare LF line ends) hands the connection over, with what the
// loop read but did not answer and what it answered but could not write
// yet, to the fasthttp server, which serves it from then on exactly as it
// serves a connection it accepted itself (handedConn). So everything the
// loop does not do itself is done by the code that did it before, and
// the requests a loop answers are those the fasthttp handler would have
// answered from the cache, with the same bytes.
//
// The loop's epoll descriptor is itself registered with Go's poller: a
// loop with nothing to do parks like any goroutine, and yields to the
// others after each batch of events, so handed-over connections, origin
// requests and timers run as before.

const (
	loopReadBuffer = 64 << 10  // one per loop, shared by its connections
	inlineContent  = 16 << 10  // larger content is written from the store's bytes, not copied
	maxBatch       = 256 << 10 // answers to pipelined requests are written at about this much
	loopEvents     = 256
)

// loopConn is a connection a loop serves.
type loopConn struct {
	fd         int
	in         []byte   // read, not yet answered: part of a head, or pipelined requests
	pend       [][]byte // answers not yet written (the loop's own copies, or stored content)
	readDL     int64    // unix ns: the next request's head must be read by then
	writeDL    int64    // unix ns: pend must move by then
	closeAfter bool     // close once pend is written (the request said close)
	answered   bool     // a request was answered
	timedOut   bool     // handed over past the read timeout: fasthttp's to answer 408
}

// loop is one event loop.
type loop struct {
	s    *Server
	epfd int
	file *os.File // epfd, registered with Go's poller
	raw  syscall.RawConn

	events []unix.EpollEvent
	conns  map[int]*loopConn
	rbuf   []byte
	out    []byte
	segs   []seg
	iov    [][]byte
	iovecs []unix.Iovec
	files  fileTable
	v      *view
	stop   bool // stopping: no new requests; ends when the last connection closes

	nextSweep int64
	mu        sync.Mutex // guards incoming, stopping, ended
	incoming  []int
	stopping  bool
	ended     bool        // run has returned: add closes what it is given
	poke      atomic.Bool // incoming or stopping changed
	done      chan struct{}
	ls        *loops
}

// seg is a part of a batch's output: out[off:end], or content.
type seg struct {
	content  []byte
	off, end int
}

// loops is the state of a server that runs event loops.
type loops struct {
	ln       net.Listener
	q        *connQueue
	all      []*loop
	count    atomic.Int64 // connections in the loops
	stopping atomic.Bool
	served   atomic.Int64 // requests answered by the loops
	handed   atomic.Int64 // connections handed to fasthttp
	sweeps   atomic.Int64 // sweeps of the loops' connections
	fromFile atomic.Int64 // contents sent from a loop's copy (sendfile)
}

func newLoop(s *Server, ls *loops) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(epfd), "epoll")
	raw, err := f.SyscallConn()
	if err == nil {
		// Deadlines work on descriptors the poller holds: this is how the
		// loop knows it can park on epfd.
		err = f.SetReadDeadline(time.Time{})
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	l := &loop{
		s: s, epfd: epfd, file: f, raw: raw,
		events: make([]unix.EpollEvent, loopEvents),
		conns:  make(map[int]*loopConn),
		rbuf:   make([]byte, loopReadBuffer),
		v:      newView(),
		files:  fileTable{budget: int(max(s.opts.LoopCopyBytes, 0))},
		done:   make(chan struct{}),
		ls:     ls,
	}
	return l, nil
}

// serveLoops accepts connections from ln and gives them to n event loops,
// which hand to the fasthttp server what they do not answer. It reports
// false, having done nothing, when loops cannot run here.
func (s *Server) serveLoops(ln net.Listener, n int) (bool, error) {
	q := newConnQueue(ln.Addr())
	ls := &loops{ln: ln, q: q}
	for range n {
		l, err := newLoop(s, ls)
		if err != nil {
			for _, l := range ls.all {
				_ = l.file.Close()
			}
			s.opts.Logger.Warn("event loops unavailable; fasthttp serves every connection", "err", err)
			return false, nil
		}
		ls.all = append(ls.all, l)
	}
	s.loopsMu.Lock()
	s.loops = ls
	s.loopsMu.Unlock()
	for _, l := range ls.all {
		go l.run()
	}
	go func() {
		_ = s.srv.Serve(&timedListener{Listener: q, read: positive(s.opts.ReadTimeout), write: positive(s.opts.WriteTimeout)})
	}()

	maxConns := int64(s.opts.MaxConns)
	if maxConns <= 0 {
		maxConns = fasthttp.DefaultConcurrency
	}
	next := 0
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ls.stopping.Load() {
				return true, nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// As net/http: wait and try again.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			for _, l := range ls.all {
				l.halt()
			}
			_ = q.Close()
			return true, err
		}
		backoff = 0
		if ls.count.Load()+int64(s.srv.GetCurrentConcurrency()) >= maxConns {
			_, _ = io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
			_ = c.Close()
			continue
		}
		fd, ok := takeFD(c)
		if !ok {
			q.hand(c) // not a socket the loops can take: fasthttp serves it
			continue
		}
		if fd < 0 {
			continue // closed: nothing to serve
		}
		ls.count.Add(1)
		ls.all[next].add(fd)
		next = (next + 1) % len(ls.all)
	}
}

// takeFD takes c's socket out of Go's hands: a duplicate of its
// descriptor, c closed (which takes it out of Go's poller without closing
// the socket, the duplicate still refers to it). It reports true with a
// negative descriptor when c is closed and the socket with it.
func takeFD(c net.Conn) (int, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	var derr error
	if err := raw.Control(func(s uintptr) {
		fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil || derr != nil {
		return 0, false
	}
	_ = c.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return -1, true // gone: nothing to serve
	}
	return fd, true
}

// stopLoops makes the loops stop taking requests, close their idle
// connections, finish writing to the others and end; it waits for them
// or for ctx.
func (s *Server) stopLoops(done <-chan struct{}) error {
	s.loopsMu.Lock()
	ls := s.loops
	s.loopsMu.Unlock()
	if ls == nil {
		return nil
	}
	ls.stopping.Store(true)
	_ = ls.ln.Close()
	for _, l := range ls.all {
		l.halt()
	}
	for _, l := range ls.all {
		select {
		case <-l.done:
		case <-done:
			return errors.New("fastproxy: event loops did not finish in time")
		}
	}
	return nil
}

// add gives the loop a connection, or closes it if the loop has ended.
func (l *loop) add(fd int) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		l.discard(fd)
		return
	}
	l.incoming = append(l.incoming, fd)
	l.mu.Unlock()
	l.wake()
}

// end closes the connections added but not admitted when run returns;
// those added from now on add closes.
func (l *loop) end() {
	l.mu.Lock()
	l.ended = true
	fds := l.incoming
	l.incoming = nil
	l.mu.Unlock()
	for _, fd := range fds {
		l.discard(fd)
	}
}

// discard closes a connection added but not admitted.
func (l *loop) discard(fd int) {
	_ = unix.Close(fd)
	l.ls.count.Add(-1)
}

// halt makes the loop stop.
func (l *loop) halt() {
	l.mu.Lock()
	l.stopping = true
	l.mu.Unlock()
	l.wake()
}

// wake makes a parked loop look at incoming and stopping: a deadline in
// the past ends its wait on epfd.
func (l *loop) wake() {
	l.poke.Store(true)
	_ = l.file.SetReadDeadline(time.Unix(1, 0))
}

func (l *loop) run() {
	defer close(l.done)
	defer func() { _ = l.file.Close() }()
	defer l.files.closeAll()
	defer l.end()
	rearm := true
	for {
		if rearm {
			// Before poke is read: a wake after this point is seen either
			// way (see wake).
			if l.nextSweep == 0 {
				l.nextSweep = time.Now().UnixNano() + int64(time.Second)
			}
			_ = l.file.SetReadDeadline(time.Unix(0, l.nextSweep))
			rearm = false
		}
		if l.poke.Swap(false) {
			l.admit()
		}
		if l.stop && len(l.conns) == 0 {
			return
		}
		n := 0
		var pollErr error
		err := l.raw.Read(func(uintptr) bool {
			for {
				n, pollErr = rawEpollPoll(l.epfd, l.events)
				if pollErr != unix.EINTR {
					break
				}
			}
			return n > 0 || pollErr != nil
		})
		if err == nil && pollErr != nil {
			err = os.NewSyscallError("epoll_pwait", pollErr) // EBADF, EFAULT, EINVAL: never with a valid epfd
		}
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				l.s.opts.Logger.Error("event loop stopped", "err", err)
				l.closeAll()
				return
			}
			// The sweep's deadline, or a wake. Whether the sweep is due is
			// read on the real clock, by which the sweep also sets the next
			// one: the coarse clock may lag by a tick, and a deadline
			// re-armed in the past would end every wait at once, before
			// epoll is asked, until it caught up. A wake alone (a new
			// connection) sweeps nothing.
			rearm = true
			l.sweepIfDue()
			continue
		}
		for _, ev := range l.events[:n] {
			if c := l.conns[int(ev.Fd)]; c != nil {
				l.event(c, ev.Events)
			}
		}
		if l.sweepIfDue() {
			rearm = true
		}
		runtime.Gosched()
	}
}

// admit takes the connections added and notices a stop.
func (l *loop) admit() {
	l.mu.Lock()
	fds := l.incoming
	l.incoming = nil
	stopping := l.stopping
	l.mu.Unlock()
	now := coarseNow()
	for _, fd := range fds {
		if stopping || unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}) != nil {
			l.discard(fd)
			continue
		}
		l.conns[fd] = &loopConn{fd: fd, readDL: now + int64(l.s.opts.ReadTimeout)}
	}
	if stopping && !l.stop {
		l.stop = true
		l.sweep()
	}
}

// sweepIfDue sweeps once the sweep is due, by the real clock (the
// coarse one may lag by a tick), and reports whether it did.
func (l *loop) sweepIfDue() bool {
	if time.Now().UnixNano() < l.nextSweep {
		return false
	}
	l.sweep()
	return true
}

// sweep closes the connections past their deadlines (the read timeout
// for an idle connection or a head not read in time, the write timeout
// for an answer not taken), and, once the loop stops, the idle ones.
func (l *loop) sweep() {
	l.ls.sweeps.Add(1)
	now := coarseNow()
	for _, c := range l.conns {
		switch {
		case len(c.pend) > 0:
			if l.s.opts.WriteTimeout > 0 && now > c.writeDL {
				l.close(c)
			}
		case l.stop:
			l.close(c)
		case l.s.opts.ReadTimeout > 0 && now > c.readDL:
			if len(c.in) > 0 || !c.answered {
				// Part of a head, or no request yet: fasthttp answers 408
				// to both; an idle keep-alive connection just closes.
				c.timedOut = true
				l.handOver(c, c.in)
			} else {
				l.close(c)
			}
		}
	}
	l.nextSweep = time.Now().UnixNano() + int64(time.Second)
}

func (l *loop) closeAll() {
	for _, c := range l.conns {
		l.close(c)
	}
}

func (l *loop) close(c *loopConn) {
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	_ = unix.Close(c.fd)
	delete(l.conns, c.fd)
	l.ls.count.Add(-1)
	c.pend, c.in = nil, nil
}

// event handles what epoll reported for c.
func (l *loop) event(c *loopConn, ev uint32) {
	if len(c.pend) > 0 {
		if ev&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			l.close(c)
			return
		}
		if ev&unix.EPOLLOUT != 0 {
			l.flush(c)
		}
		return
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		l.readable(c)
	}
}

// readable reads what c has and answers it.
func (l *loop) readable(c *loopConn) {
	var data []byte
	var n int
	var err error
	if len(c.in) > 0 {
		if cap(c.in)-len(c.in) < 4096 {
			c.in = append(make([]byte, 0, 2*cap(c.in)+4096), c.in...)
		}
		n, err = rawRead(c.fd, c.in[len(c.in):cap(c.in)])
		if n > 0 {
			data = c.in[:len(c.in)+n]
		}
	} else {
		n, err = rawRead(c.fd, l.rbuf)
		if n > 0 {
			data = l.rbuf[:n]
		}
	}
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err == nil && n == 0 && len(c.in) > 0:
		// The client ended its side within a head: fasthttp's to answer
		// (400), as it would have been without the loop.
		l.handOver(c, c.in)
		return
	case err != nil || n <= 0:
		l.close(c) // gone, or closed its side: nothing pending to finish
		return
	}
	l.answer(c, data)
}

// answer answers the complete requests at the start of data, keeps the
// rest in c.in and writes the answers; or hands c over.
func (l *loop) answer(c *loopConn, data []byte) {
	l.out, l.segs = l.out[:0], l.segs[:0]
	size := 0
	for len(data) > 0 && size < maxBatch && !c.closeAfter && !l.stop {
		end, plain := headEnd(data)
		if !plain {
			l.handOver(c, data)
			return
		}
		if end < 0 {
			if len(data) >= l.s.opts.MaxHeaderBytes {
				l.handOver(c, data) // fasthttp answers 431
				return
			}
			break // wait for the rest of the head
		}
		if end > l.s.opts.MaxHeaderBytes {
			l.handOver(c, data) // whole in one read, but as large: 431 too
			return
		}
		before := len(l.out)
		served, closeAfter, content := l.serveOne(data[:end])
		if !served {
			l.out = l.out[:before]
			l.handOver(c, data)
			return
		}
		l.ls.served.Add(1)
		size += len(l.out) - before + len(content)
		l.addSeg(before, content)
		data = data[end:]
		c.closeAfter, c.answered = closeAfter, true
	}
	if c.closeAfter {
		data = nil // RFC 9112 §9.6: nothing after a request that closes is read
	}
	c.in = append(c.in[:0], data...) // may overlap c.in: append copies forward
	if len(c.in) == 0 && cap(c.in) > 64<<10 {
		c.in = nil
	}
	if len(l.segs) == 0 {
		return
	}
	l.write(c)
}

// addSeg records the answer at out[before:] and its content.
func (l *loop) addSeg(before int, content []byte) {
	if n := len(l.segs); n > 0 && l.segs[n-1].content == nil && l.segs[n-1].end == before {
		l.segs[n-1].end = len(l.out)
	} else {
		l.segs = append(l.segs, seg{off: before, end: len(l.out)})
	}
	if len(content) > 0 {
		l.segs = append(l.segs, seg{content: content})
	}
}

// serveOne answers the request whose head is head, appending the answer's
// head to l.out and returning its content, when it is a plain hit. It
// reports false, having appended nothing that counts, for anything else.
func (l *loop) serveOne(head []byte) (served, closeAfter bool, content []byte) {
	v := l.v
	ok, closeAfter := v.parse(head)
	if !ok {
		return false, false, nil
	}
	lk := l.s.proxy.Load().Cache().Peek(&v.req)
	defer lk.Release()
	if lk.Decision != httpcache.Serve || lk.Streamed() || !plainStatus(lk.Wire(http.StatusOK)) {
		return false, false, nil
	}
	code, body := lk.Reply()
	age, status := lk.AgeAndStatus()
	l.out = appendHit(l.out, lk.Wire(code), age, status)
	if closeAfter {
		l.out = append(l.out, "Connection: close\r\n"...)
	}
	l.out = append(l.out, "\r\n"...)
	if code == http.StatusNotModified || len(body) == 0 {
		return true, closeAfter, nil
	}
	if len(body) <= inlineContent {
		l.out = append(l.out, body...)
		return true, closeAfter, nil
	}
	return true, closeAfter, body // shared, read-only
}

// plainStatus reports whether the stored head wire has a status whose
// response may carry Content-Length and content (RFC 9110 §8.6, §15):
// not 1xx, 204 or 304, which are fasthttp's to frame.
func plainStatus(wire []byte) bool {
	if len(wire) < 12 {
		return false
	}
	switch string(wire[9:12]) {
	case "204", "304":
		return false
	}
	return wire[9] >= '2'
}

// write writes the batch's answers to c, keeping what the socket does not
// take for when it can. Parts in runs go by writev; content the loop
// keeps a copy of (files_linux.go) by sendfile, once the parts before it
// are out.
func (l *loop) write(c *loopConn) {
	l.iov = l.iov[:0]
	for _, s := range l.segs {
		b := s.content
		if b == nil {
			b = l.out[s.off:s.end]
		}
		l.iov = append(l.iov, b)
	}
	segs := l.segs
	l.segs = l.segs[:0] // from here on, not a batch to hand over
	start := 0
	for i := 0; i <= len(segs); i++ {
		fd := -1
		if i < len(segs) {
			if segs[i].content == nil {
				continue
			}
			if fd = l.files.fdFor(segs[i].content); fd < 0 {
				continue
			}
		}
		if start < i {
			run, total := l.iov[start:i], 0
			for _, b := range run {
				total += len(b)
			}
			if n, err := rawWritev(c.fd, run, &l.iovecs); n != total {
				l.keep(c, segs, start, n, err)
				return
			}
		}
		if i == len(segs) {
			break
		}
		if n, err := rawSendfile(c.fd, fd, len(segs[i].content)); n != len(segs[i].content) {
			l.keep(c, segs, i, n, err)
			return
		}
		l.ls.fromFile.Add(1)
		start = i + 1
	}
	l.written(c)
}

// keep keeps for c what of the batch's answers from segs[from] on was not
// written, n bytes of it having been, and waits until c can take more;
// or closes c if the write failed.
func (l *loop) keep(c *loopConn, segs []seg, from, n int, err error) {
	if err != nil && err != unix.EAGAIN && err != unix.EINTR {
		l.close(c)
		return
	}
	// Copies of the loop's buffer, the content as it is.
	skip := max(n, 0)
	for i := from; i < len(segs); i++ {
		b := l.iov[i]
		if skip >= len(b) {
			skip -= len(b)
			continue
		}
		b = b[skip:]
		skip = 0
		if segs[i].content == nil {
			b = bytes.Clone(b)
		}
		c.pend = append(c.pend, b)
	}
	c.writeDL = coarseNow() + int64(l.s.opts.WriteTimeout)
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(c.fd)}); err != nil {
		l.close(c)
	}
}

// flush writes what c has pending.
func (l *loop) flush(c *loopConn) {
	n, err := rawWritev(c.fd, c.pend, &l.iovecs)
	for n > 0 && len(c.pend) > 0 {
		if n < len(c.pend[0]) {
			c.pend[0] = c.pend[0][n:]
			break
		}
		n -= len(c.pend[0])
		c.pend[0] = nil
		c.pend = c.pend[1:]
	}
	if len(c.pend) > 0 {
		if err != nil && err != unix.EAGAIN && err != unix.EINTR {
			l.close(c)
			return
		}
		c.writeDL = coarseNow() + int64(l.s.opts.WriteTimeout) // it moves: give it time
		return
	}
	c.pend = nil
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)}); err != nil {
		l.close(c)
		return
	}
	l.written(c)
}

// written goes on after c's answers are all written: close, or wait for
// the next request, or answer the ones already read.
func (l *loop) written(c *loopConn) {
	if c.closeAfter || l.stop {
		l.close(c)
		return
	}
	c.readDL = coarseNow() + int64(l.s.opts.ReadTimeout)
	if len(c.in) > 0 {
		if end, plain := headEnd(c.in); end > 0 || !plain {
			l.answer(c, c.in)
		}
	}
}

// handOver gives c to the fasthttp server, with the answers built so far
// in this batch and data, what was read from the request not answered on.
func (l *loop) handOver(c *loopConn, data []byte) {
	var out [][]byte
	for _, s := range l.segs {
		if s.content != nil {
			out = append(out, s.content)
		} else {
			out = append(out, bytes.Clone(l.out[s.off:s.end]))
		}
	}
	l.segs = l.segs[:0] // c's: not for the next connection handed over
	in := bytes.Clone(data)
	fd := c.fd
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	delete(l.conns, fd)
	l.ls.count.Add(-1)
	c.pend, c.in = nil, nil
	f := os.NewFile(uintptr(fd), "client")
	nc, err := net.FileConn(f) // a duplicate, in Go's poller
	_ = f.Close()
	if err != nil {
		l.s.opts.Logger.Warn("connection not handed over", "err", err)
		return
	}
	l.ls.handed.Add(1)
	l.ls.q.hand(&handedConn{Conn: nc, out: out, in: in, timedOut: c.timedOut, writeTimeout: positive(l.s.opts.WriteTimeout)})
}
