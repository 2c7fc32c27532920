package fastproxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/proxy"
	"github.com/valyala/fasthttp"
)

// forward hands ctx's request, with l, its lookup (nil when it was not
// looked up), to the proxy, as net/http would: with a request of its own
// and a ResponseWriter. The proxy runs in a goroutine of its own; once it
// has written the response's head, fasthttp sends it, with the content
// the proxy wrote if it finished within responseBuffer bytes, or
// else streaming the content from it as it writes (and no faster than the
// client reads: the pipe between them holds nothing).
func (s *Server) forward(ctx *fasthttp.RequestCtx, p *proxy.Proxy, l *httpcache.Lookup) {
	// As a server request for ReverseProxy: a body copy that fails then
	// aborts the response (http.ErrAbortHandler) instead of ending it as
	// if it were complete.
	rctx, cancel := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, s.marker))
	r, body, err := owned(ctx, rctx, s.opts.BufferedBody)
	if err != nil {
		cancel()
		if l != nil {
			l.Release()
		}
		s.errorHandler(ctx, err)
		return
	}
	conn := ctx.Conn()
	tc, _ := conn.(*timedConn)
	if body.streams() && tc != nil {
		tc.progress.Store(true) // a streamed upload may take as long as it moves
	}
	done := func() {
		if body.cut(conn) {
			ctx.Response.Header.SetConnectionClose() // its rest was not read
		}
		if tc != nil {
			tc.progress.Store(false)
		}
		cancel()
	}
	if l != nil {
		l.Rebind(r)
	}
	w := &responseWriter{header: make(http.Header), ready: make(chan struct{}), conns: make(chan *hijackedConn), gaveUp: make(chan struct{})}
	go s.run(p, w, r, l)
	<-w.ready

	if w.hijacked {
		// A protocol switch (RFC 9110 §7.8, §15.2.2): the connection is
		// the proxy's until it closes it; nothing more is read from it
		// as HTTP.
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(c net.Conn) {
			if tc != nil {
				tc.release()
			}
			hc := &hijackedConn{Conn: c, closed: make(chan struct{})}
			select {
			case w.conns <- hc:
				<-hc.closed
			case <-w.gaveUp:
			}
			done()
		})
		return
	}

	if w.aborted && !w.streaming {
		// The proxy gave up before the head was sent: the origin could
		// not be reached in a way that let it answer, or its response
		// broke off. The client gets a 502 and the connection ends.
		done()
		ctx.Response.Reset()
		ctx.Response.SetStatusCode(http.StatusBadGateway)
		ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
		ctx.Response.Header.SetConnectionClose()
		ctx.Response.SetBodyString("Bad Gateway\n")
		return
	}
	head, size := s.writeHead(ctx, w)
	sendBody := !ctx.Request.Header.IsHead() && bodyAllowed(w.code)
	if !w.streaming {
		done()
		if !sendBody {
			return
		}
		if size >= 0 && len(w.buf) != size {
			// Never sent short as if complete: fasthttp fails the
			// framed copy and closes the connection (RFC 9112 §8).
			ctx.Response.SetBodyStream(bytes.NewReader(w.buf), size)
			return
		}
		ctx.Response.SetBodyRaw(w.buf)
		return
	}
	sb := &streamBody{prefix: w.buf, pr: w.pr, done: done}
	if size < 0 && sendBody && !ctx.Request.Header.IsHTTP11() {
		// An HTTP/1.0 client cannot read chunked content (RFC 9112
		// §6.1): content of unknown length is delimited by closing the
		// connection, which fasthttp does not do, so it is written here.
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(c net.Conn) {
			defer sb.Close()
			head = append(head, "Connection: close\r\n\r\n"...)
			if _, err := c.Write(head); err == nil {
				_, _ = io.Copy(c, sb)
			}
		})
		return
	}
	ctx.Response.SetBodyStream(sb, size)
}

// run runs the proxy for r and l and settles w when it returns or panics
// (ReverseProxy aborts with http.ErrAbortHandler when a body copy fails).
func (s *Server) run(p *proxy.Proxy, w *responseWriter, r *http.Request, l *httpcache.Lookup) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler { //nolint:errorlint // a sentinel value, as net/http compares it
				s.opts.Logger.Error("proxy panic", "panic", v, "uri", r.RequestURI)
			}
			w.abort()
			return
		}
		w.finish()
	}()
	if l == nil {
		p.ServeHTTP(w, r)
	} else {
		p.ServeLookup(w, r, l)
	}
}

// writeHead sets the response's status and fields from w, and returns them
// serialised (status line and field lines, without the empty line), and
// the content length to frame the body with, or -1 for chunked.
func (s *Server) writeHead(ctx *fasthttp.RequestCtx, w *responseWriter) ([]byte, int) {
	size := -1
	head := make([]byte, 0, 1024)
	head = appendStatusLine(head, w.code)
	hasDate := false
	for name, values := range w.sent {
		if len(values) == 0 {
			continue
		}
		switch name {
		case "Content-Length":
			if n, err := strconv.ParseInt(values[0], 10, 64); err == nil && n >= 0 && len(values) == 1 && n <= 1<<40 {
				size = int(n)
			}
			continue
		case "Transfer-Encoding", "Connection", "Keep-Alive", "Trailer", "Proxy-Connection":
			continue // framing and hop-by-hop fields are this connection's
		case "Date":
			hasDate = true
		}
		for _, v := range values {
			head = appendFieldLine(head, name, v)
		}
	}
	if !hasDate {
		head = appendFieldLine(head, "Date", dates.now())
	}
	if size >= 0 {
		head = appendFieldLine(head, "Content-Length", strconv.Itoa(size))
	}
	if err := s.readHead(&ctx.Response.Header, head); err != nil {
		// A field value fasthttp will not carry: send what it takes.
		s.opts.Logger.Warn("response head refused", "err", err)
		ctx.Response.Header.Reset()
		ctx.Response.Header.SetNoDefaultContentType(true)
		ctx.Response.SetStatusCode(w.code)
		for name, values := range w.sent {
			if name == "Content-Length" || name == "Transfer-Encoding" || name == "Connection" {
				continue
			}
			for _, v := range values {
				ctx.Response.Header.Add(name, v)
			}
		}
	}
	if size >= 0 && !w.streaming && (ctx.Request.Header.IsHead() || !bodyAllowed(w.code)) {
		ctx.Response.Header.SetContentLength(size)
	}
	return head, size
}

// responseBuffer is how much of a forwarded response is collected before
// its head is sent: a response that fits is sent with its length in one
// write; past it, the content streams. Kept small, as net/http's own
// buffer is, so that an origin that sends a part and waits (for the
// client, or for time) is not held back behind it.
const responseBuffer = 64 << 10

// bodyAllowed reports whether a response with code has content (RFC 9110
// §6.4.1).
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// appendFieldLine appends a field line (RFC 9112 §5).
func appendFieldLine(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// appendStatusLine appends an HTTP/1.1 status line (RFC 9112 §4).
func appendStatusLine(dst []byte, code int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(code)...)
	return append(dst, "\r\n"...)
}

// responseWriter is the http.ResponseWriter the proxy writes to. It holds
// the content until it passes responseBuffer bytes or is flushed,
// then streams it through a pipe.
type responseWriter struct {
	header http.Header
	sent   http.Header // the header as it was when the head was written
	code   int

	buf       []byte
	pr        *io.PipeReader
	pw        *io.PipeWriter
	streaming bool
	aborted   bool
	hijacked  bool               // Hijack was called
	conns     chan *hijackedConn // the connection, from the hijack handler
	gaveUp    chan struct{}      // closed when Hijack stopped waiting
	ready     chan struct{}      // closed when the head and the mode are settled
	once      sync.Once
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.sent != nil {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return // informational responses are not relayed by this front end
	}
	if code < 100 || code > 999 {
		panic("fastproxy: invalid status code " + strconv.Itoa(code))
	}
	w.code = code
	w.sent = w.header.Clone()
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.sent == nil {
		w.WriteHeader(http.StatusOK)
	}
	if !w.streaming {
		if len(w.buf)+len(p) <= responseBuffer {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		w.stream()
	}
	return w.pw.Write(p)
}

// Flush sends what has been written: the head, and the content from now
// on as it is written.
func (w *responseWriter) Flush() {
	if w.sent == nil {
		w.WriteHeader(http.StatusOK)
	}
	if !w.streaming {
		w.stream()
	}
}

// Hijack hands the client's connection to the proxy, for a protocol
// switch (ReverseProxy calls it on a 101 from the origin and writes the
// 101 itself). The connection is fasthttp's again, and closed, once the
// proxy closes it.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.streaming || w.hijacked {
		return nil, nil, errors.New("fastproxy: response already started")
	}
	w.hijacked = true
	w.once.Do(func() { close(w.ready) })
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case c := <-w.conns:
		return c, bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c)), nil
	case <-t.C:
		close(w.gaveUp) // the hijack handler, if it ever runs, lets go
		return nil, nil, errors.New("fastproxy: connection not handed over")
	}
}

// hijackedConn is the client's connection while the proxy has it. fasthttp
// takes the connection (and recycles the buffered reader in front of it)
// back when its hijack handler returns, which it does once Close has
// stopped every read and write in progress and refuses new ones.
type hijackedConn struct {
	net.Conn
	mu      sync.Mutex
	closing bool
	active  sync.WaitGroup
	once    sync.Once
	closed  chan struct{}
}

func (c *hijackedConn) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.active.Add(1)
	return true
}

func (c *hijackedConn) Read(p []byte) (int, error) {
	if !c.enter() {
		return 0, net.ErrClosed
	}
	defer c.active.Done()
	return c.Conn.Read(p)
}

func (c *hijackedConn) Write(p []byte) (int, error) {
	if !c.enter() {
		return 0, net.ErrClosed
	}
	defer c.active.Done()
	return c.Conn.Write(p)
}

// Close ends the proxy's use of the connection: reads and writes in
// progress are cut short by a deadline in the past and waited for.
func (c *hijackedConn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
		_ = c.Conn.SetDeadline(time.Unix(1, 0))
		c.active.Wait()
		close(c.closed)
	})
	return nil // fasthttp closes the connection itself
}

func (w *responseWriter) stream() {
	w.pr, w.pw = io.Pipe()
	w.streaming = true
	w.once.Do(func() { close(w.ready) })
}

// finish settles w when the proxy has returned.
func (w *responseWriter) finish() {
	if w.sent == nil {
		w.WriteHeader(http.StatusOK)
	}
	if w.streaming {
		w.pw.Close()
		return
	}
	w.once.Do(func() { close(w.ready) })
}

var errAborted = errors.New("fastproxy: response aborted")

// abort settles w when the proxy gave up on the response.
func (w *responseWriter) abort() {
	if w.streaming {
		w.pw.CloseWithError(errAborted)
		return
	}
	if w.sent == nil {
		w.code = http.StatusBadGateway
		w.sent = http.Header{}
	}
	w.aborted = true
	w.once.Do(func() { close(w.ready) })
}

// streamBody is the content fasthttp reads from the proxy, the buffered
// part first.
type streamBody struct {
	prefix []byte
	pr     *io.PipeReader
	done   func()
	closed atomic.Bool
}

func (b *streamBody) Read(p []byte) (int, error) {
	if len(b.prefix) > 0 {
		n := copy(p, b.prefix)
		b.prefix = b.prefix[n:]
		return n, nil
	}
	return b.pr.Read(p)
}

// Close is called by fasthttp when the body has been sent or could not
// be: the proxy's writes fail from then on, which stops its copy from the
// origin.
func (b *streamBody) Close() error {
	if b.closed.CompareAndSwap(false, true) {
		b.pr.CloseWithError(errClientGone)
		b.done()
	}
	return nil
}

var errClientGone = errors.New("fastproxy: client connection done")

// dateCache formats the Date field value once a second (RFC 9110 §6.6.1).
type dateCache struct {
	v atomic.Pointer[dateValue]
}

type dateValue struct {
	sec int64
	s   string
}

var dates dateCache

func (d *dateCache) now() string {
	t := time.Now()
	if v := d.v.Load(); v != nil && v.sec == t.Unix() {
		return v.s
	}
	v := &dateValue{sec: t.Unix(), s: t.UTC().Format(http.TimeFormat)}
	d.v.Store(v)
	return v.s
}
