// Package fastproxy is the fast HTTP/1.1 front end of the shared cache, on
// github.com/valyala/fasthttp.
//
// It shares everything but the wire with package proxy: every request is
// looked up by the same httpcache core, and every request that is not a
// plain hit (a miss, a revalidation, a wait behind a collapsed request,
// a stale response served while it is revalidated, a Range request, an
// unsafe method) is handed, with its lookup, to the same proxy.Proxy that
// the net/http front end runs. What this package adds is the hit path: a
// stored response is sent from the head the cache serialised once for it
// (RFC 9112 §4, §5), with Age and Cache-Status added, and its stored
// content, in one write, without per-request allocations or goroutines.
// On Linux, event loops (loop_linux.go) take the connections first and
// answer plain hits themselves, reading a connection only when it has
// bytes; a connection with anything else to answer is handed to the
// fasthttp server, whose handler answers hits the same way.
//
// fasthttp owns the connection: request parsing and its limits, timeouts,
// keep-alive and pipelining. It refuses the framing that request
// smuggling relies on (RFC 9112 §6.1, §6.3: Transfer-Encoding with
// Content-Length, repeated or invalid Content-Length, codings other than
// chunked, bare CR and LF, obs-fold); the tests of this package keep that
// true. It speaks HTTP/1.1 and HTTP/1.0 only: TLS, HTTP/2 and h2c are the
// net/http front end's.
package fastproxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/proxy"
	"github.com/valyala/fasthttp"
)

// Defaults for the zero fields of [Options].
const (
	DefaultReadTimeout    = 60 * time.Second
	DefaultWriteTimeout   = 60 * time.Second
	DefaultMaxHeaderBytes = 32 << 10
	DefaultBufferedBody   = 1 << 20
	DefaultLoopCopyBytes  = 32 << 20
)

// Options configures a [Server].
type Options struct {
	// Proxy answers what the front end does not answer itself, with the
	// cache it holds. Required.
	Proxy *proxy.Proxy

	// ReadTimeout bounds the time from the end of a response (or the
	// connection's start) to having read the next request's head and
	// the part of its body read before it is handled: the idle keep-alive
	// wait and the read together, so that a client trickling its request
	// a byte at a time gets no longer than an idle one. WriteTimeout
	// bounds each write to the client, so a client that stops reading is
	// dropped while one that reads slowly may take as long as it reads.
	// Both hold to within a second (see timedConn). Zero means the
	// defaults above; negative means none.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration

	// MaxHeaderBytes bounds a request's head (request line and fields);
	// a larger one is answered 431. Zero means DefaultMaxHeaderBytes.
	MaxHeaderBytes int

	// BufferedBody is the largest request body read whole before the
	// request is handled; a larger one streams to the origin as it
	// arrives. Zero means DefaultBufferedBody.
	BufferedBody int

	// MaxConns bounds the connections served at once; zero means
	// fasthttp's default (256 Ki).
	MaxConns int

	// Wrap, if set, wraps the request handler, as middleware does an
	// http.Handler: to count, log or refuse requests before the cache.
	// The cache and the origin see the request's header fields as the
	// client sent them (they are read from the raw head): a change a
	// middleware makes to them is not seen.
	Wrap func(fasthttp.RequestHandler) fasthttp.RequestHandler

	// Loops is the number of event loops that take the connections
	// first and answer plain cache hits themselves (see loop_linux.go),
	// handing a connection to fasthttp for anything else. Zero means one
	// per GOMAXPROCS; negative means none: fasthttp serves every
	// connection. Loops run on Linux only, and not with Wrap, which must
	// see every request.
	Loops int

	// LoopCopyBytes bounds the copies of large content each event loop
	// keeps to send with sendfile (see files_linux.go), memory beside
	// the store's. Zero means DefaultLoopCopyBytes; negative means none:
	// large content is written from memory.
	LoopCopyBytes int64

	// Logger receives errors. Nil discards them.
	Logger *slog.Logger
}

// Server is the fast front end: a fasthttp server whose handler answers
// hits itself and hands everything else to a proxy.Proxy.
type Server struct {
	proxy  atomic.Pointer[proxy.Proxy]
	opts   Options
	marker *http.Server // the http.ServerContextKey value of forwarded requests
	srv    *fasthttp.Server
	views  sync.Pool
	heads  sync.Pool

	loopsMu sync.Mutex
	loops   *loops // while event loops serve

	// prepared holds the stored heads fasthttp has parsed, by the
	// address of the cache's serialised head (see setHead).
	prepared [preparedSlots]atomic.Pointer[preparedHead]
}

// preparedSlots is the number of parsed stored heads kept: a direct-mapped
// table, like the cache's own table of heads.
const preparedSlots = 4096

// preparedHead is a stored head as fasthttp holds it, with the Age and
// Cache-Status fields of one second. It keeps the cache's serialised head
// and field values alive, so that while it is in the table no other can
// be allocated at the same addresses: the same addresses and lengths are
// the same head and values.
type preparedHead struct {
	wire        []byte
	age, status []string
	h           fasthttp.ResponseHeader
	refused     bool // fasthttp refused the head: the proxy sends it
}

// setHead sets rh to the stored head wire (the cache's, for a response
// with code) with the fields Age and Cache-Status: copied from the parsed
// head kept for them, or parsed and kept. The cache reuses the values of
// Age and Cache-Status for an entry within a second, so a head is parsed
// about once a second per entry served. fasthttp has no way to send a
// head as bytes, nor a Date other than its own except one it parsed; a
// copy of a parsed head costs a third of a parse. It reports false,
// leaving rh to be replaced, when fasthttp refuses the head.
func (s *Server) setHead(rh *fasthttp.ResponseHeader, wire []byte, code int, age, status []string) bool {
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(wire)))
	slot := &s.prepared[(addr>>4)*0x9E3779B97F4A7C15>>52%preparedSlots]
	if p := slot.Load(); p != nil && same(p.wire, wire) && same(p.age, age) && same(p.status, status) {
		if p.refused {
			return false
		}
		p.h.CopyTo(rh)
		return true
	}
	head := appendHit(make([]byte, 0, len(wire)+128), wire, age, status)
	if err := s.readHead(rh, head); err != nil || rh.StatusCode() != code {
		// Left as it is: the next head read into it replaces it all,
		// where a Reset would also drop the server's settings.
		// Remembered, like a head taken, so that it is refused (and
		// logged) once per entry and second, not on every hit.
		s.opts.Logger.Warn("stored head refused", "err", err)
		slot.Store(&preparedHead{wire: wire, age: age, status: status, refused: true})
		return false
	}
	p := &preparedHead{wire: wire, age: age, status: status}
	rh.CopyTo(&p.h) // with the server's settings: no default Date, Content-Type
	slot.Store(p)
	return true
}

// appendHit appends a stored head the cache serialised and the fields a
// hit adds to it: Age (RFC 9111 §5.1) and Cache-Status (RFC 9211).
func appendHit(dst, wire []byte, age, status []string) []byte {
	dst = append(dst, wire...)
	for _, a := range age {
		dst = appendFieldLine(dst, "Age", a)
	}
	for _, v := range status {
		dst = appendFieldLine(dst, "Cache-Status", v)
	}
	return dst
}

// readHead parses head, a status line and field lines without the empty
// line that ends them, into rh. Whether the connection stays open is the
// server's to decide, not the parser's guess from a head without
// Content-Length.
func (s *Server) readHead(rh *fasthttp.ResponseHeader, head []byte) error {
	hr := s.headReader()
	hr.reset(head)
	err := rh.Read(&hr.br)
	s.heads.Put(hr)
	rh.ResetConnectionClose()
	return err
}

// same reports whether a and b are the same slice: same elements, same
// length.
func same[E any](a, b []E) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// New returns a front end for o.Proxy.
func New(o Options) (*Server, error) {
	if o.Proxy == nil {
		return nil, errors.New("fastproxy: no proxy")
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.BufferedBody <= 0 {
		o.BufferedBody = DefaultBufferedBody
	}
	if o.LoopCopyBytes == 0 {
		o.LoopCopyBytes = DefaultLoopCopyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: o, marker: &http.Server{}}
	s.proxy.Store(o.Proxy)
	var h fasthttp.RequestHandler = s.handle
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	s.srv = &fasthttp.Server{
		Handler:        h,
		ErrorHandler:   s.errorHandler,
		Concurrency:    o.MaxConns,
		ReadBufferSize: o.MaxHeaderBytes,
		// No ReadTimeout, WriteTimeout, IdleTimeout: the listener's
		// connections keep them (timedConn).
		MaxRequestBodySize:            o.BufferedBody,
		StreamRequestBody:             true,
		DisablePreParseMultipartForm:  true,
		NoDefaultServerHeader:         true,
		NoDefaultDate:                 true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: false, // the view's keys must be canonical
		CloseOnShutdown:               true,
		SecureErrorLogMessage:         true,
		Logger:                        logger{o.Logger},
	}
	return s, nil
}

func positive(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// Serve accepts connections on ln until Shutdown is called or ln fails.
func (s *Server) Serve(ln net.Listener) error {
	if n := s.loopCount(); n > 0 {
		if ran, err := s.serveLoops(ln, n); ran {
			return err
		}
	}
	return s.srv.Serve(&timedListener{Listener: ln, read: positive(s.opts.ReadTimeout), write: positive(s.opts.WriteTimeout)})
}

// loopCount returns the number of event loops to run.
func (s *Server) loopCount() int {
	switch {
	case s.opts.Loops < 0 || s.opts.Wrap != nil:
		return 0
	case s.opts.Loops == 0:
		return runtime.GOMAXPROCS(0)
	}
	return s.opts.Loops
}

// SetProxy makes p answer the requests that arrive from now on, with its
// cache, as on a configuration reload; requests in progress finish with
// the proxy they started with.
func (s *Server) SetProxy(p *proxy.Proxy) {
	if p != nil {
		s.proxy.Store(p)
	}
}

// Shutdown stops accepting connections, closes idle ones, and waits for
// the requests being served to finish, or for ctx to be done.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.stopLoops(ctx.Done()); err != nil {
		return err
	}
	return s.srv.ShutdownWithContext(ctx)
}

// handle answers one request.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	v := s.view()
	defer s.views.Put(v)
	refuse, originForm := v.fill(&ctx.Request.Header)
	if refuse != 0 {
		s.refuse(ctx, refuse)
		return
	}
	p := s.proxy.Load()
	if !originForm {
		s.forward(ctx, p, nil)
		return
	}
	l := p.Cache().Lookup(&v.req)
	// Content kept as a stream (the disk store's large entries) and
	// Range requests are the proxy's to send.
	if l.Decision == httpcache.Serve && !v.ranged && !l.Streamed() && s.serveStored(ctx, l) {
		l.Release()
		return
	}
	s.forward(ctx, p, l)
}

func (s *Server) view() *view {
	if v, ok := s.views.Get().(*view); ok {
		return v
	}
	return newView()
}

// serveStored sends a stored response, or a 304 for it, from the head
// the cache serialised for it (RFC 9111 §4, §4.3.2), with Age (§5.1) and
// Cache-Status (RFC 9211). It reports false, having sent nothing, when
// fasthttp will not take the stored head; the request then goes the way
// of any other.
func (s *Server) serveStored(ctx *fasthttp.RequestCtx, l *httpcache.Lookup) bool {
	code, body := l.Reply()
	age, status := l.AgeAndStatus()
	if !s.setHead(&ctx.Response.Header, l.Wire(code), code, age, status) {
		return false
	}
	if code != http.StatusNotModified && len(body) > 0 {
		ctx.Response.SetBodyRaw(body) // shared, read-only: written, never modified
	}
	return true
}

// errorHandler answers a request fasthttp could not read: 431 for a
// head too large, 408 for a timeout, 400 for anything else, and closes
// the connection (RFC 9112 §9.6: after a framing error the stream
// cannot be trusted).
func (s *Server) errorHandler(ctx *fasthttp.RequestCtx, err error) {
	code := http.StatusBadRequest
	var sizeErr *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.As(err, &sizeErr):
		code = http.StatusRequestHeaderFieldsTooLarge
	case errors.As(err, &ne) && ne.Timeout():
		code = http.StatusRequestTimeout
	case errors.Is(err, fasthttp.ErrUnsupportedTransferEncoding):
		code = http.StatusNotImplemented // RFC 9112 §6.1
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		code = http.StatusRequestEntityTooLarge
	}
	s.opts.Logger.Debug("bad request", "status", code, "err", err)
	s.refuse(ctx, code)
}

// refuse answers code with a short text and closes the connection.
func (s *Server) refuse(ctx *fasthttp.RequestCtx, code int) {
	ctx.Response.Reset()
	ctx.Response.SetStatusCode(code)
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.Response.Header.SetConnectionClose()
	ctx.Response.SetBodyString(http.StatusText(code) + "\n")
}

// logger adapts a slog.Logger to fasthttp's logger.
type logger struct{ l *slog.Logger }

func (g logger) Printf(format string, args ...any) {
	g.l.Debug("fasthttp", "msg", sprintf(format, args...))
}
