package fastproxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"
)

// view is a request as the cache's lookup reads it, made over fasthttp's
// buffers without copying: method, target, Host and header fields. Its
// strings are valid only while the fasthttp handler runs, so a lookup made
// with a view is rebound to an owned request (httpcache.Lookup.Rebind)
// before anything that can outlive the handler.
type view struct {
	req    http.Request
	url    url.URL
	header http.Header
	values []string
	ranged bool // the request has Range: served by the proxy, not here
}

func newView() *view {
	return &view{header: make(http.Header, 16), values: make([]string, 0, 32)}
}

// fill makes v a view of the request whose head is rh. It reports a status code to
// refuse the request with, for what fasthttp lets through but this
// server does not take (RFC 9112 §2.3 versions, §5.2 obs-fold, §6.1
// codings), and whether the request target is in origin form (§3.2.1):
// the absolute and asterisk forms are left to the owned request.
func (v *view) fill(rh *fasthttp.RequestHeader) (refuse int, originForm bool) {
	if p := rh.Protocol(); string(p) != "HTTP/1.1" && string(p) != "HTTP/1.0" {
		return http.StatusHTTPVersionNotSupported, false
	}
	raw := rh.RawHeaders()
	if bytes.Contains(raw, obsFoldSP) || bytes.Contains(raw, obsFoldTab) {
		return http.StatusBadRequest, false
	}
	uri := rh.RequestURI()
	originForm = len(uri) > 0 && uri[0] == '/'
	clear(v.header)
	v.values = v.values[:0]
	v.ranged = false
	v.req = http.Request{
		Method:     methodString(rh.Method()),
		URL:        &v.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     v.header,
		Host:       unsafeString(rh.Host()),
		RequestURI: unsafeString(uri),
	}
	for k, val := range rh.AllInOrder() {
		name, value := unsafeString(k), unsafeString(val)
		switch name {
		case "Host":
			continue // as net/http: promoted to the request's Host
		case "Transfer-Encoding":
			if !strings.EqualFold(value, "chunked") {
				return http.StatusNotImplemented, false // RFC 9112 §6.1
			}
			continue // framing is the server's
		case "Range":
			v.ranged = true
		}
		if old, ok := v.header[name]; ok {
			v.header[name] = append(old, value) // copies: capacity is exact
			continue
		}
		i := len(v.values)
		v.values = append(v.values, value)
		v.header[name] = v.values[i : i+1 : i+1]
	}
	return 0, originForm
}

var (
	obsFoldSP  = []byte("\n ")
	obsFoldTab = []byte("\n\t")
)

// methodString returns the method as a string, without allocating for
// the common ones.
func methodString(m []byte) string {
	switch string(m) {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	}
	return unsafeString(m)
}

// unsafeString returns b as a string without copying; b must not change
// while the string is in use.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// owned returns ctx's request as net/http's server would have made it, in
// memory of its own, with body streaming from the client. The body is
// readable until the returned function is called.
func owned(ctx *fasthttp.RequestCtx, base context.Context, buffered int) (*http.Request, *guardedBody, error) {
	rh := &ctx.Request.Header
	method := string(rh.Method())
	uri := string(rh.RequestURI())
	var u *url.URL
	var err error
	if uri == "*" && method == http.MethodOptions {
		u = &url.URL{Path: "*"}
	} else if u, err = url.ParseRequestURI(uri); err != nil {
		return nil, nil, fmt.Errorf("request target %q: %w", uri, err)
	}
	h := make(http.Header, 16)
	for k, val := range rh.AllInOrder() {
		name := string(k)
		switch name {
		case "Host", "Transfer-Encoding", "Content-Length":
			continue // promoted, or framing (set below)
		}
		h[name] = append(h[name], string(val))
	}
	r := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       string(rh.Host()),
		RequestURI: uri,
		RemoteAddr: ctx.RemoteAddr().String(),
	}
	if !rh.IsHTTP11() {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	if u.Host != "" {
		r.Host = u.Host // absolute form (RFC 9112 §3.2.2)
	}
	body := &guardedBody{}
	switch cl := rh.ContentLength(); {
	case cl > 0, cl == -1: // -1: chunked
		s := ctx.RequestBodyStream()
		if s == nil {
			body.r = bytes.NewReader(bytes.Clone(ctx.Request.Body()))
			break
		}
		// Up to buffered bytes are read before the origin is asked, so
		// that a body whose framing turns out to be broken (RFC 9112
		// §7.1) is refused here rather than half sent; a larger one
		// streams, and a broken rest aborts the forwarded request.
		head, err := io.ReadAll(io.LimitReader(s, int64(buffered)+1))
		if err != nil {
			return nil, nil, fmt.Errorf("request body: %w", err)
		}
		if len(head) <= buffered {
			body.r = bytes.NewReader(head)
			if cl == -1 {
				cl = len(head)
			}
		} else {
			body.r = io.MultiReader(bytes.NewReader(head), s)
			body.stream = true
		}
		r.ContentLength = int64(cl)
		r.Body = body
	default:
		r.Body = http.NoBody
	}
	if r.ContentLength == 0 {
		r.Body = http.NoBody
	}
	return r.WithContext(base), body, nil
}

// guardedBody is a request body read from fasthttp's connection, which is
// fasthttp's again once the response is written: cut ends its use, so a
// transport still sending it to the origin gets an error, never bytes of
// the next request.
type guardedBody struct {
	mu     sync.Mutex // held by a read in progress
	r      io.Reader
	stream bool // r reads from the client's connection, past what was buffered
	closed atomic.Bool
	eof    atomic.Bool
}

// streams reports whether the body is read from the client as it is sent.
func (b *guardedBody) streams() bool { return b != nil && b.stream }

func (b *guardedBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, io.ErrUnexpectedEOF
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() || b.r == nil {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

// Close does nothing: the transport closes a request body when it has
// sent it, but the connection decides when it is gone (cut).
func (b *guardedBody) Close() error { return nil }

// cut ends the body's use. A read from the client still in progress (an
// origin that answered before reading the whole body) is interrupted
// with a deadline in the past on conn and waited for; cut then reports
// true: the rest of the body was not read, and the connection must close
// after the response.
func (b *guardedBody) cut(conn net.Conn) bool {
	if b == nil || !b.closed.CompareAndSwap(false, true) {
		return false
	}
	if !b.stream || b.eof.Load() {
		return false
	}
	interrupted := !b.mu.TryLock()
	if interrupted {
		_ = conn.SetReadDeadline(time.Unix(1, 0))
		b.mu.Lock() // the read in progress has returned
	}
	b.r = nil
	b.mu.Unlock()
	return interrupted
}

// headReader feeds a stored head, then the empty line that ends it, to
// fasthttp's response header parser.
type headReader struct {
	br   bufio.Reader
	head []byte
	tail []byte
}

var crlf = []byte("\r\n")

func (s *Server) headReader() *headReader {
	if hr, ok := s.heads.Get().(*headReader); ok {
		return hr
	}
	hr := &headReader{}
	hr.br = *bufio.NewReaderSize(hr, 64<<10)
	return hr
}

func (hr *headReader) reset(head []byte) {
	hr.head, hr.tail = head, crlf
	hr.br.Reset(hr)
}

func (hr *headReader) Read(p []byte) (int, error) {
	if len(hr.head) == 0 && len(hr.tail) == 0 {
		return 0, io.EOF
	}
	n := copy(p, hr.head)
	hr.head = hr.head[n:]
	if len(hr.head) == 0 {
		m := copy(p[n:], hr.tail)
		hr.tail = hr.tail[m:]
		n += m
	}
	return n, nil
}

func sprintf(format string, args ...any) string {
	return strings.TrimSpace(fmt.Sprintf(format, args...))
}
