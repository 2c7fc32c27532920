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

	"github.com/notmod/notmod/internal/httplex"
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
	keys   []byte // field names parse made canonical
	ranged bool   // the request has Range: served by the proxy, not here
}

func newView() *view {
	return &view{header: make(http.Header, 16), values: make([]string, 0, 32), keys: make([]byte, 0, 1024)}
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
		v.add(name, value)
	}
	return 0, originForm
}

// add adds a value of the field name to the view's header: the first
// value of a name in v.values, without a slice of its own.
func (v *view) add(name, value string) {
	if old, ok := v.header[name]; ok {
		v.header[name] = append(old, value) // copies: capacity is exact
		return
	}
	i := len(v.values)
	v.values = append(v.values, value)
	v.header[name] = v.values[i : i+1 : i+1]
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

// headEnd returns the length of the request head at the start of data,
// with the empty line that ends it, or -1 if it is not all there. It
// reports false when a line ends in a bare LF (RFC 9112 §2.2 lets a
// recipient accept it): such heads are fasthttp's to read.
func headEnd(data []byte) (int, bool) {
	for i := 0; ; {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return -1, true
		}
		j += i
		if j == 0 || data[j-1] != '\r' {
			return 0, false
		}
		if j >= 3 && data[j-2] == '\n' && data[j-3] == '\r' {
			return j + 1, true
		}
		i = j + 1
	}
}

// parse makes v a view of the request whose head is head, a request line
// and field lines each ending in CRLF and the empty line that ends them,
// as an event loop reads it, in one pass. It accepts only what it can
// answer from the cache and reads exactly as the fasthttp path would: a
// GET or HEAD in origin form (RFC 9112 §3.2.1), HTTP/1.1, field names of
// token characters directly followed by the colon (§5.1), values of
// visible characters, spaces, tabs and obs-text (RFC 9110 §5.5), one
// non-empty Host (RFC 9112 §3.2), no obs-fold (§5.2), no body (no
// Content-Length or Transfer-Encoding, §6.3), no Expect, no Upgrade, and
// Connection naming close or keep-alive only (RFC 9110 §7.6.1). It
// reports false for anything else, which is then the fasthttp parser's to
// read; closes reports Connection: close.
func (v *view) parse(head []byte) (ok, closes bool) {
	clear(v.header)
	v.values = v.values[:0]
	v.keys = v.keys[:0]
	v.ranged = false

	// Request line: method SP request-target SP HTTP-version CRLF.
	var method string
	switch {
	case bytes.HasPrefix(head, methodGet):
		method, head = http.MethodGet, head[len(methodGet):]
	case bytes.HasPrefix(head, methodHead):
		method, head = http.MethodHead, head[len(methodHead):]
	default:
		return false, false
	}
	if len(head) == 0 || head[0] != '/' {
		return false, false
	}
	sp := bytes.IndexByte(head, ' ')
	if sp < 0 {
		return false, false
	}
	target := head[:sp]
	for _, c := range target {
		if c <= ' ' || c >= 0x7f {
			return false, false
		}
	}
	head = head[sp+1:]
	if !bytes.HasPrefix(head, http11CRLF) {
		return false, false
	}
	head = head[len(http11CRLF):]

	var host []byte
	hosts := 0
	for {
		if len(head) < 2 {
			return false, false
		}
		if head[0] == '\r' {
			if len(head) != 2 || head[1] != '\n' {
				return false, false
			}
			break // the empty line, which ends head
		}
		// field-name ":" OWS field-value OWS CRLF
		i := 0
		for i < len(head) && httplex.IsTokenChar(head[i]) {
			i++
		}
		if i == 0 || i >= len(head) || head[i] != ':' {
			return false, false // obs-fold, space before the colon, ...
		}
		name := head[:i]
		j := i + 1
		for j < len(head) && httplex.IsOWS(head[j]) {
			j++
		}
		k := j
		for k < len(head) && head[k] != '\r' {
			if c := head[k]; c < ' ' && c != '\t' || c == 0x7f {
				return false, false
			}
			k++
		}
		if k+1 >= len(head) || head[k+1] != '\n' {
			return false, false
		}
		value := head[j:k]
		for len(value) > 0 && httplex.IsOWS(value[len(value)-1]) {
			value = value[:len(value)-1]
		}
		head = head[k+2:]

		key := v.canonical(name)
		switch key {
		case "Host":
			hosts++
			host = value
			continue
		case "Content-Length", "Transfer-Encoding", "Expect", "Upgrade":
			return false, false
		case "Connection":
			for tok := range httplex.Elements(unsafeString(value)) {
				switch {
				case httplex.EqualFold(tok, "close"):
					closes = true
				case httplex.EqualFold(tok, "keep-alive"):
				default:
					return false, false
				}
			}
		case "Range":
			return false, false // the proxy's to answer
		}
		v.add(key, unsafeString(value))
	}
	if hosts != 1 || len(host) == 0 {
		return false, false
	}
	v.req = http.Request{
		Method:     method,
		URL:        &v.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     v.header,
		Host:       unsafeString(host),
		RequestURI: unsafeString(target),
	}
	return true, closes
}

var (
	methodGet  = []byte("GET ")
	methodHead = []byte("HEAD ")
	http11CRLF = []byte("HTTP/1.1\r\n")
)

// canonical returns name in canonical form (RFC 9110 §5.1 names are case
// insensitive; net/http's maps use the form of CanonicalMIMEHeaderKey),
// without copying when it is already canonical, as it usually is.
func (v *view) canonical(name []byte) string {
	upper := true
	for i, c := range name {
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			start := len(v.keys)
			v.keys = append(v.keys, name...)
			k := v.keys[start:]
			up := upper
			for i2 := i; i2 < len(k); i2++ {
				c := k[i2]
				if up && 'a' <= c && c <= 'z' {
					k[i2] = c - ('a' - 'A')
				} else if !up && 'A' <= c && c <= 'Z' {
					k[i2] = c + ('a' - 'A')
				}
				up = k[i2] == '-'
			}
			return unsafeString(k)
		}
		upper = c == '-'
	}
	return unsafeString(name)
}
