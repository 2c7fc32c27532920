// RFC 9110 §13.2: evaluating preconditions at the origin, for any handler.

package precond

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultMaxBuffer is the most bytes of a response the middleware buffers
// when [Options.MaxBuffer] is zero.
const DefaultMaxBuffer = 1 << 20

// Options configures [NewMiddleware]. The zero value is ready to use.
type Options struct {
	// MaxBuffer is the most bytes of a 200 response that the middleware
	// holds in memory to make an entity tag from, or to answer Range from.
	// A longer response passes through untouched. Zero means
	// DefaultMaxBuffer; a negative value is an error.
	MaxBuffer int

	// Current returns the current validators of the target of r, for
	// requests whose method is neither GET nor HEAD (PUT, PATCH, DELETE,
	// POST, ...). With it, the middleware evaluates If-Match,
	// If-Unmodified-Since and If-None-Match before the handler runs, and
	// answers 412 without calling the handler when one fails: the
	// lost-update prevention of RFC 9110 §13.1.1 and §13.1.4, and
	// `If-None-Match: *` refusing to overwrite an existing resource
	// (§13.1.2). Set Validators.Missing for a target that does not exist
	// yet. When nil, such requests reach the handler unevaluated.
	Current func(r *http.Request) (Validators, error)

	// ErrorHandler answers a request for which Current returned an error.
	// When nil, the middleware answers 500 with no details.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Now returns the current time. When nil, time.Now is used.
	Now func() time.Time
}

// Middleware makes next answer conditional requests, with the zero
// [Options]. See [NewMiddleware].
func Middleware(next http.Handler) http.Handler {
	m, _ := NewMiddleware(Options{})
	return m(next)
}

// NewMiddleware returns middleware that makes a handler answer conditional
// requests (RFC 9110 §13) and range requests (§14).
//
// For GET and HEAD, it looks at the handler's response. Only a 200 is
// considered (§13.2.1); any other status passes through untouched.
//   - When the handler set ETag or Last-Modified before writing its
//     status, the preconditions are evaluated at once: a 304 or 412 is
//     sent and the content the handler goes on to write is discarded.
//   - When the handler set neither, the response is buffered, up to
//     MaxBuffer bytes, and a strong ETag is made from the bytes the handler
//     wrote, after any Content-Encoding it applied ([ContentETag]).
//   - A Range request on a buffered 200 is answered with 206 (one range
//     or multipart/byteranges) or 416, when If-Range allows (§13.1.5).
//   - A response longer than MaxBuffer, one the handler flushes before it
//     returns (streaming, server-sent events) and a 101 switch pass through
//     untouched.
//
// A HEAD request is served by running the handler as a GET and discarding
// the content, so HEAD gets exactly the fields GET would have had
// (§9.3.2), ETag and Content-Length included.
//
// The middleware must be nearer the handler than any middleware that
// rewrites content (compression, templating), so that the entity tag
// describes the bytes sent. The writer it hands the handler implements
// Unwrap, so [http.ResponseController] reaches the server's writer.
func NewMiddleware(o Options) (func(http.Handler) http.Handler, error) {
	if o.MaxBuffer < 0 {
		return nil, errors.New("precond: negative MaxBuffer")
	}
	if o.MaxBuffer == 0 {
		o.MaxBuffer = DefaultMaxBuffer
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ErrorHandler == nil {
		o.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}
	}
	return func(next http.Handler) http.Handler {
		return &middleware{opts: o, next: next}
	}, nil
}

type middleware struct {
	opts Options
	next http.Handler
	pool sync.Pool // of *writer
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodConnect, http.MethodOptions, http.MethodTrace:
		m.next.ServeHTTP(w, r) // §13.2.1: preconditions do not apply
		return
	default:
		m.unsafe(w, r)
		return
	}
	if r.Header.Get("Upgrade") != "" {
		m.next.ServeHTTP(w, r)
		return
	}

	cw, _ := m.pool.Get().(*writer)
	if cw == nil {
		cw = &writer{}
	}
	*cw = writer{
		rw:   w,
		m:    m,
		cond: ConditionsOf(r.Method, r.Header),
		head: r.Method == http.MethodHead,
		buf:  cw.buf[:0],
	}
	req := r
	if cw.head {
		req = r.WithContext(r.Context())
		req.Method = http.MethodGet
	}
	rangeHeader := r.Header["Range"]
	if len(rangeHeader) == 1 && !cw.head {
		cw.rangeSpec = rangeHeader[0]
	}
	m.next.ServeHTTP(cw, req)
	cw.finish()

	if cap(cw.buf) <= 4*m.opts.MaxBuffer && cap(cw.buf) <= 4<<20 {
		buf := cw.buf[:0]
		*cw = writer{buf: buf}
		m.pool.Put(cw)
	}
}

// unsafe evaluates the preconditions of a request whose method changes
// state, before the handler runs (RFC 9110 §13.2.1).
func (m *middleware) unsafe(w http.ResponseWriter, r *http.Request) {
	c := ConditionsOf(r.Method, r.Header)
	if m.opts.Current == nil || (len(c.IfMatch) == 0 && len(c.IfNoneMatch) == 0 && len(c.IfUnmodifiedSince) == 0) {
		m.next.ServeHTTP(w, r)
		return
	}
	v, err := m.opts.Current(r)
	if err != nil {
		m.opts.ErrorHandler(w, r, err)
		return
	}
	if Write(w, c.Evaluate(v)) {
		return
	}
	m.next.ServeHTTP(w, r)
}

// state is where a [writer] is in its response.
type state uint8

const (
	stateInit      state = iota // nothing written yet
	stateBuffering              // a 200 whose content is being held
	statePass                   // the response passes through untouched
	stateDiscard                // a 304 or 412 was sent; content is dropped
)

// writer is the http.ResponseWriter the middleware gives the handler. It
// is used by one request at a time, as ResponseWriters are.
type writer struct {
	rw        http.ResponseWriter
	m         *middleware
	cond      Conditions
	head      bool   // the client's request was HEAD
	rangeSpec string // the Range field of a GET, if any
	state     state
	buf       []byte
}

// Header returns the header map of the underlying writer.
func (w *writer) Header() http.Header { return w.rw.Header() }

// Unwrap returns the underlying writer, for [http.ResponseController].
func (w *writer) Unwrap() http.ResponseWriter { return w.rw }

// WriteHeader decides, from the status and the validators the handler
// set, whether to answer at once, pass through or buffer.
func (w *writer) WriteHeader(code int) {
	if w.state != stateInit {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.rw.WriteHeader(code) // informational: 103 Early Hints and such
		return
	}
	if code != http.StatusOK {
		w.pass(code)
		return
	}
	h := w.rw.Header()
	v, ok := w.validators(h)
	if !ok {
		if cl, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil && cl > int64(w.m.opts.MaxBuffer) {
			w.pass(code)
			return
		}
		w.state = stateBuffering
		return
	}
	o := w.cond.Evaluate(v)
	if Write(w.rw, o) {
		w.state = stateDiscard
		return
	}
	if o == Proceed && w.rangeSpec != "" {
		w.state = stateBuffering // to answer Range from the whole content
		return
	}
	w.pass(code)
}

// validators reads the validators the handler set in h.
func (w *writer) validators(h http.Header) (Validators, bool) {
	var v Validators
	if et := h["Etag"]; len(et) == 1 {
		if t, ok := ParseETag(et[0]); ok {
			v.ETag = t
		}
	}
	if lm := h["Last-Modified"]; len(lm) == 1 {
		if t, err := http.ParseTime(lm[0]); err == nil {
			v.LastModified = t
		}
	}
	if v.ETag == "" && v.LastModified.IsZero() {
		return v, false
	}
	v.Date = w.m.opts.Now()
	if d := h["Date"]; len(d) == 1 {
		if t, err := http.ParseTime(d[0]); err == nil {
			v.Date = t
		}
	}
	return v, true
}

// pass sends the status and lets the rest of the response through.
func (w *writer) pass(code int) {
	w.state = statePass
	w.rw.WriteHeader(code)
}

// Write buffers, passes or discards p, as the state says.
func (w *writer) Write(p []byte) (int, error) {
	if w.state == stateInit {
		w.WriteHeader(http.StatusOK)
	}
	switch w.state {
	case stateBuffering:
		if len(w.buf)+len(p) <= w.m.opts.MaxBuffer {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		if err := w.spill(); err != nil {
			return 0, err
		}
		return w.rw.Write(p)
	case stateDiscard:
		return len(p), nil
	}
	return w.rw.Write(p)
}

// spill gives up buffering: it sends the 200 and what was held so far.
func (w *writer) spill() error {
	w.pass(http.StatusOK)
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.rw.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// Flush sends what is buffered and flushes the underlying writer: a
// handler that flushes is streaming, so its response passes through.
func (w *writer) Flush() {
	if w.state == stateInit {
		w.WriteHeader(http.StatusOK)
	}
	if w.state == stateBuffering {
		if w.spill() != nil {
			return
		}
	}
	if w.state == statePass {
		_ = http.NewResponseController(w.rw).Flush()
	}
}

// finish completes a response the handler has returned from.
func (w *writer) finish() {
	if w.state == stateInit {
		w.WriteHeader(http.StatusOK)
	}
	if w.state != stateBuffering {
		return
	}
	h := w.rw.Header()
	v, ok := w.validators(h)
	if !ok {
		v.ETag = ContentETag(w.buf)
		v.Date = w.m.opts.Now()
		h.Set("Etag", string(v.ETag))
	}
	o := w.cond.Evaluate(v)
	if Write(w.rw, o) {
		return
	}
	if o == Proceed && w.rangeSpec != "" && h.Get("Accept-Ranges") != "none" &&
		h.Get("Content-Range") == "" && serveRange(w.rw, w.rangeSpec, w.buf) {
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(w.buf)))
	if _, ok := h["Accept-Ranges"]; !ok {
		h.Set("Accept-Ranges", "bytes") // §14.3: this 200 could have been a 206
	}
	w.rw.WriteHeader(http.StatusOK)
	if !w.head {
		_, _ = w.rw.Write(w.buf)
	}
}
