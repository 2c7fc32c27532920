package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/internal/framing"
)

// Defaults for the zero fields of [Options].
const (
	DefaultDialTimeout     = 5 * time.Second
	DefaultResponseTimeout = 30 * time.Second
	// DefaultIdleTimeout is shorter than the 5 s for which Node.js and
	// Apache keep an idle connection by default: an origin that closes an
	// idle connection just as the proxy sends a request on it makes the
	// request fail, and one that is not idempotent cannot be retried.
	DefaultIdleTimeout = 4 * time.Second
)

// Options configures a [Proxy].
type Options struct {
	// Origin is the server requests are forwarded to: scheme and host,
	// and optionally a path prefix. Required.
	Origin *url.URL

	// Cache decides and stores. Required. Its Transport, when nil, is set
	// to the proxy's, so that background revalidation reaches the origin.
	Cache *httpcache.Cache

	// Transport carries requests to the origin. Nil means an
	// http.Transport with DialTimeout and ResponseTimeout.
	Transport http.RoundTripper

	// DialTimeout bounds connecting to the origin; ResponseTimeout bounds
	// waiting for its response header. An origin that hangs gets the
	// client a 504 (or a stale response, where one may be served). Zero
	// means the defaults above.
	DialTimeout     time.Duration
	ResponseTimeout time.Duration

	// IdleTimeout is how long an idle connection to the origin is kept
	// for reuse; it should be shorter than the origin's own keep-alive
	// timeout. Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration

	// PreserveHost sends the client's Host to the origin instead of the
	// origin's own host name.
	PreserveHost bool

	// Logger receives errors. Nil discards them.
	Logger *slog.Logger
}

// Proxy is the shared-cache handler. It is safe for concurrent use.
type Proxy struct {
	cache  *httpcache.Cache
	rp     *httputil.ReverseProxy
	origin *url.URL
	opts   Options
	bufs   sync.Pool
}

type lookupKey struct{}

// cancelKey holds the function that aborts the forwarded request, for the
// idle timeout on the origin's body.
type cancelKey struct{}

// New returns a proxy in front of o.Origin, caching in o.Cache.
func New(o Options) (*Proxy, error) {
	if o.Origin == nil || o.Origin.Host == "" || (o.Origin.Scheme != "http" && o.Origin.Scheme != "https") {
		return nil, errors.New("proxy: origin must be an http or https URL")
	}
	if o.Cache == nil {
		return nil, errors.New("proxy: no cache")
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ResponseTimeout == 0 {
		o.ResponseTimeout = DefaultResponseTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Transport == nil {
		// Wrapped to read the responses net/http refuses for their
		// Transfer-Encoding as RFC 9112 §6.3 frames them.
		o.Transport = framing.Wrap(&http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			ResponseHeaderTimeout: o.ResponseTimeout,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       o.IdleTimeout,
			TLSHandshakeTimeout:   o.DialTimeout,
			DisableCompression:    true,
		})
	}
	p := &Proxy{cache: o.Cache, origin: o.Origin, opts: o}
	p.cache.SetTransport(o.Transport)
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      o.Transport,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		BufferPool:     (*bufferPool)(&p.bufs),
		ErrorLog:       slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	return p, nil
}

// Cache returns the cache the proxy decides and stores with.
func (p *Proxy) Cache() *httpcache.Cache { return p.cache }

// ServeHTTP answers r from the cache or through the origin.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.ServeLookup(w, r, p.cache.Lookup(r))
}

// ServeLookup answers r as ServeHTTP does, from l, the cache's lookup of
// r, which it takes over and releases. It lets another front end look a
// request up itself, answer what it can on its own, and hand the rest
// here.
func (p *Proxy) ServeLookup(w http.ResponseWriter, r *http.Request, l *httpcache.Lookup) {
	if l.Decision == httpcache.Wait {
		// Another request for this URL is at the origin: wait for it,
		// then look again (request collapsing).
		if err := l.Wait(r.Context()); err != nil {
			l.Release()
			return
		}
		l = l.Retry()
	}
	if l.Decision == httpcache.ServeStale {
		p.serveStored(w, l)
		l.Revalidate(p.outbound(r)) // takes l over
		return
	}
	// Deferred: ReverseProxy aborts with a panic (http.ErrAbortHandler)
	// when a body copy fails, and the flight must land all the same.
	defer l.Release()
	switch l.Decision {
	case httpcache.Serve:
		p.serveStored(w, l)
	case httpcache.GatewayTimeout:
		h := w.Header()
		h.Set("Cache-Status", string(l.AppendCacheStatus(nil)))
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = w.Write([]byte("not in cache (only-if-cached)\n"))
	default:
		ctx, cancel := context.WithCancel(context.WithValue(r.Context(), lookupKey{}, l))
		defer cancel()
		ctx = context.WithValue(ctx, cancelKey{}, cancel)
		p.rp.ServeHTTP(&noSniffWriter{ResponseWriter: w}, r.WithContext(ctx))
	}
}

// serveStored writes a stored response: status, stored fields, Age,
// Cache-Status and content, or a 304, or a 206 for a Range it may honour.
func (p *Proxy) serveStored(w http.ResponseWriter, l *httpcache.Lookup) {
	code, body := l.Reply()
	h := w.Header()
	for _, f := range l.Head(code) {
		h[f.Name] = f.Values // shared, read-only slices
	}
	h["Age"], h["Cache-Status"] = l.AgeAndStatus()
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // sent as stored: without one (see noSniffWriter)
	}
	if code == http.StatusNotModified {
		w.WriteHeader(code)
		return
	}
	writeContent(w, l, code, body)
}

// outbound builds the request to send to the origin for r, as the
// ReverseProxy would, for requests the cache makes on its own.
func (p *Proxy) outbound(r *http.Request) *http.Request {
	out := r.Clone(context.WithoutCancel(r.Context()))
	out.RequestURI = ""
	// As ReverseProxy does before Rewrite: the client's forwarding fields
	// are not to be trusted, and fields named by Connection are
	// hop-by-hop. Range is the client's; a revalidation is for the whole.
	httpcache.RemoveHopByHop(out.Header)
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "Range", "If-Range"} {
		out.Header.Del(k)
	}
	pr := &httputil.ProxyRequest{In: r, Out: out}
	pr.SetURL(p.origin)
	pr.SetXForwarded()
	if p.opts.PreserveHost {
		out.Host = r.Host
	}
	if sc := p.cache.SurrogateCapability(); sc != "" {
		out.Header.Add("Surrogate-Capability", sc)
	}
	return out
}

func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.origin)
	pr.SetXForwarded()
	if p.opts.PreserveHost {
		pr.Out.Host = pr.In.Host
	}
	if sc := p.cache.SurrogateCapability(); sc != "" {
		pr.Out.Header.Add("Surrogate-Capability", sc)
	}
	if l, ok := pr.In.Context().Value(lookupKey{}).(*httpcache.Lookup); ok {
		l.Outbound(pr.Out.Header)
	}
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// A protocol switch (RFC 9110 §15.2.2): nothing to cache, and
		// ReverseProxy needs the connection as the origin gave it.
		return nil
	}
	if cancel, ok := resp.Request.Context().Value(cancelKey{}).(context.CancelFunc); ok && resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = newIdleBody(resp.Body, p.opts.ResponseTimeout, cancel)
	}
	l, ok := resp.Request.Context().Value(lookupKey{}).(*httpcache.Lookup)
	if !ok {
		return nil
	}
	r, err := l.Receive(resp)
	if err != nil {
		return err
	}
	if r != resp {
		*resp = *r
	}
	return nil
}

// errorHandler answers when the origin could not be reached or answered
// wrongly: with a stale response where one may be served (RFC 9111
// §4.2.4), else 504 for a timeout and 502 for anything else. No error
// text reaches the client.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	l, _ := r.Context().Value(lookupKey{}).(*httpcache.Lookup)
	if l != nil {
		if resp, ok := l.Fail(err); ok {
			writeResponse(w, resp)
			return
		}
	}
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	// 504 for a timeout, and when a stored response could not be served
	// stale because a directive forbids it (RFC 9111 §5.2.2.2); else 502.
	code := http.StatusBadGateway
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) || l != nil && l.HadStored() {
		code = http.StatusGatewayTimeout
	}
	p.opts.Logger.Warn("origin request failed", "method", r.Method, "uri", r.URL.RequestURI(), "status", code, "err", err)
	if l != nil {
		l.Status.FwdStatus, l.Status.HasTTL = 0, false
		w.Header().Set("Cache-Status", string(l.AppendCacheStatus(nil)))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(http.StatusText(code) + "\n"))
}

// writeResponse copies a response built by the cache to w.
func writeResponse(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	if resp.StatusCode != http.StatusNotModified {
		h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	w.WriteHeader(resp.StatusCode)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// noSniffWriter keeps net/http from adding a Content-Type of its own
// guessing to a response the origin sent without one: an intermediary
// passes the representation's metadata on as it is (RFC 9110 §8.3 leaves
// guessing to the recipient, §7.6 lists what a proxy may change).
type noSniffWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *noSniffWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.wrote = true
		if h := w.Header(); len(h["Content-Type"]) == 0 {
			h["Content-Type"] = nil
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *noSniffWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Flush and Unwrap let ReverseProxy flush and hijack through the wrapper.
func (w *noSniffWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *noSniffWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bufferPool lends ReverseProxy its copy buffers.
type bufferPool sync.Pool

func (b *bufferPool) Get() []byte {
	if v, ok := (*sync.Pool)(b).Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { (*sync.Pool)(b).Put(&buf) }

// idleBody aborts the forwarded request when the origin sends nothing for
// d while the body is being read: an origin that stalls mid-body gets the
// same bound as one that never answers.
type idleBody struct {
	rc    io.ReadCloser
	d     time.Duration
	timer *time.Timer
}

func newIdleBody(rc io.ReadCloser, d time.Duration, cancel context.CancelFunc) *idleBody {
	return &idleBody{rc: rc, d: d, timer: time.AfterFunc(d, cancel)}
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.d)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	return b.rc.Close()
}
