package framing_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/internal/framing"
)

// rawOrigin is an HTTP/1.1 origin on a loopback socket that answers each
// request with bytes written by hand, so that it can send what net/http's
// server never would. It reads requests with net/http.
type rawOrigin struct {
	addr     string
	conns    atomic.Int32 // connections accepted
	requests atomic.Int32 // requests read
}

// respondFunc writes the response to req on w, and reports whether the
// origin then closes the connection.
type respondFunc func(req *http.Request, w *bufio.Writer) (closeAfter bool)

// startOrigin serves respond on 127.0.0.1, over TLS when cfg is not nil,
// until the test ends.
func startOrigin(t *testing.T, cfg *tls.Config, respond respondFunc) *rawOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	o := &rawOrigin{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range open {
			c.Close()
		}
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			o.conns.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br, bw := bufio.NewReader(c), bufio.NewWriter(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					o.requests.Add(1)
					closeAfter := respond(req, bw)
					if bw.Flush() != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return o
}

// script answers each path with fixed bytes; a path ending in "/close"
// closes the connection after its answer.
func script(responses map[string]string) respondFunc {
	return func(req *http.Request, w *bufio.Writer) bool {
		resp, ok := responses[req.URL.Path]
		if !ok {
			resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
		}
		w.WriteString(strings.ReplaceAll(resp, "\n", "\r\n"))
		return strings.HasSuffix(req.URL.Path, "/close")
	}
}

func newClient(t *testing.T, tr *http.Transport) *http.Client {
	t.Helper()
	ft := framing.Wrap(tr)
	t.Cleanup(ft.CloseIdleConnections)
	return &http.Client{Transport: ft, Timeout: 20 * time.Second}
}

// got is what a client read of one response.
type got struct {
	status  int
	body    string
	length  int64
	te      []string // the Transfer-Encoding field, as the caller sees it
	trailer string   // the X-Sum trailer
}

func fetch(t *testing.T, c *http.Client, method, url string) (got, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return got{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return got{}, err
	}
	return got{status: resp.StatusCode, body: string(b), length: resp.ContentLength,
		te: resp.Header.Values("Transfer-Encoding"), trailer: resp.Trailer.Get("X-Sum")}, nil
}

const fakeHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\n"

// TestTransferCodings sends requests to an origin that frames its
// responses with transfer codings net/http refuses, over one client, and
// checks what the client reads and which connections were reused.
func TestTransferCodings(t *testing.T) {
	o := startOrigin(t, nil, script(map[string]string{
		// RFC 9112 §6.3 rule 4: gzip is final, so the content runs until the
		// origin closes the connection.
		"/gzip/close": "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n\nnot really gzip",
		// §6.3 rules 3 and 4: Transfer-Encoding overrides Content-Length.
		"/gzip-length/close": "HTTP/1.1 200 OK\nContent-Length: 2\nTransfer-Encoding: gzip\n\nall of this",
		// §6.3 rule 4: chunked is final: chunked framing, trailers, reuse.
		"/foo-chunked": "HTTP/1.1 200 OK\nTransfer-Encoding: foo, chunked\nContent-Length: 1\nTrailer: X-Sum\n\n5\nhello\n6\n world\n0\nX-Sum: 42\n\n",
		// §6.3 rule 3: net/http's own case, chunked with Content-Length.
		"/chunked-length": "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nContent-Length: 3\n\n5\nhello\n0\n\n",
		// §6.3 rule 1: a 304 and a 204 with Transfer-Encoding, no content.
		"/304":     "HTTP/1.1 304 Not Modified\nTransfer-Encoding: gzip\nETag: \"a\"\n\n",
		"/204":     "HTTP/1.1 204 No Content\nTransfer-Encoding: gzip, chunked\n\n",
		"/head":    "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\nContent-Length: 5\n\n",
		"/interim": "HTTP/1.1 100 Continue\nTransfer-Encoding: x\n\nHTTP/1.1 103 Early Hints\nLink: </a.css>; rel=preload\n\nHTTP/1.1 200 OK\nTransfer-Encoding: x, chunked\n\n2\nok\n0\n\n",
		// §6.1: HTTP/1.0 with Transfer-Encoding: until close, not reused,
		// whatever Content-Length and Connection say.
		"/http10/close": "HTTP/1.0 200 OK\nTransfer-Encoding: chunked\nContent-Length: 1\nConnection: keep-alive\n\nabc",
		// §6.1: chunked twice cannot be framed: refused, as before.
		"/chunked-twice/close": "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n0\n\n",
		"/plain":               "HTTP/1.1 200 OK\nContent-Length: 5\n\nplain",
		// Content is never read as a head: 63 bytes of content each that
		// look like a head.
		"/head-in-content":         "HTTP/1.1 200 OK\nContent-Length: 63\n\nHTTP/1.1 200 OK\nTransfer-Encoding: gzip\nContent-Length: 1\n\n",
		"/head-in-chunked-content": "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3f\nHTTP/1.1 204 OK\nTransfer-Encoding: gzip\nContent-Length: 1\n\n\n0\n\n",
	}))
	c := newClient(t, &http.Transport{})
	base := "http://" + o.addr

	steps := []struct {
		method, path string
		want         got
		conns        int32 // connections the origin accepted once the response is read
		refused      bool
	}{
		{method: "GET", path: "/gzip/close", want: got{status: 200, body: "not really gzip", length: -1}, conns: 1},
		{method: "GET", path: "/gzip-length/close", want: got{status: 200, body: "all of this", length: -1}, conns: 2},
		{method: "GET", path: "/foo-chunked", want: got{status: 200, body: "hello world", length: -1, trailer: "42"}, conns: 3},
		{method: "GET", path: "/chunked-length", want: got{status: 200, body: "hello", length: -1}, conns: 3},
		{method: "GET", path: "/304", want: got{status: 304}, conns: 3},
		{method: "GET", path: "/204", want: got{status: 204}, conns: 3},
		{method: "HEAD", path: "/head", want: got{status: 200, length: 5}, conns: 3},
		{method: "GET", path: "/interim", want: got{status: 200, body: "ok", length: -1}, conns: 3},
		{method: "GET", path: "/plain", want: got{status: 200, body: "plain", length: 5}, conns: 3},
		{method: "GET", path: "/http10/close", want: got{status: 200, body: "abc", length: -1}, conns: 3},
		{method: "GET", path: "/plain", want: got{status: 200, body: "plain", length: 5}, conns: 4},
		{method: "GET", path: "/chunked-twice/close", refused: true, conns: 4},
		{method: "GET", path: "/plain", want: got{status: 200, body: "plain", length: 5}, conns: 5},
		{method: "GET", path: "/head-in-content", want: got{status: 200, body: fakeHead, length: 63}, conns: 5},
		{method: "GET", path: "/head-in-chunked-content", want: got{status: 200, body: strings.Replace(fakeHead, "200", "204", 1), length: -1}, conns: 5},
		{method: "GET", path: "/plain", want: got{status: 200, body: "plain", length: 5}, conns: 5},
	}
	for i, s := range steps {
		g, err := fetch(t, c, s.method, base+s.path)
		switch {
		case s.refused:
			if err == nil || !strings.Contains(err.Error(), "transfer encoding") {
				t.Errorf("%d %s %s: %+v, %v; want refused", i, s.method, s.path, g, err)
			}
		case err != nil:
			t.Errorf("%d %s %s: %v", i, s.method, s.path, err)
		case fmt.Sprint(g) != fmt.Sprint(s.want):
			t.Errorf("%d %s %s: got %+v, want %+v", i, s.method, s.path, g, s.want)
		}
		if n := o.conns.Load(); n != s.conns {
			t.Errorf("%d %s %s: the origin accepted %d connections, want %d", i, s.method, s.path, n, s.conns)
		}
	}
	if n := o.requests.Load(); n != int32(len(steps)) {
		t.Errorf("the origin read %d requests, want %d: one each", n, len(steps))
	}
}

// TestUntilClose checks that content framed by the close of the
// connection is read to the close, however long the origin keeps it
// open: the origin sends the rest only after the client has the head.
func TestUntilClose(t *testing.T) {
	headRead := make(chan struct{})
	o := startOrigin(t, nil, func(req *http.Request, w *bufio.Writer) bool {
		w.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: abc123\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nfirst,")
		w.Flush()
		<-headRead
		w.WriteString(" then the rest")
		return true
	})
	c := newClient(t, &http.Transport{})
	resp, err := c.Get("http://" + o.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	close(headRead)
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "first, then the rest" || resp.ContentLength != -1 || len(resp.Header["Transfer-Encoding"]) > 0 {
		t.Fatalf("got %q, %v, length %d, header %q", b, err, resp.ContentLength, resp.Header)
	}
}

// TestHeadInPieces sends each response head a byte at a time.
func TestHeadInPieces(t *testing.T) {
	o := startOrigin(t, nil, func(req *http.Request, w *bufio.Writer) bool {
		head := "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: q, chunked\r\nCache-Control: max-age=1\r\n\r\n"
		for i := range len(head) {
			w.WriteByte(head[i])
			w.Flush()
		}
		w.WriteString("3\r\nabc\r\n0\r\n\r\n")
		return false
	})
	c := newClient(t, &http.Transport{})
	for range 2 {
		g, err := fetch(t, c, "GET", "http://"+o.addr+"/")
		if err != nil || g.body != "abc" {
			t.Fatalf("got %+v, %v", g, err)
		}
	}
	if n := o.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestHeadCutShort checks that an origin that closes the connection in
// the middle of a response head gives the request an error, at once: the
// connection never waits for the rest of a head that cannot come
// (RFC 9112 §8: an incomplete message).
func TestHeadCutShort(t *testing.T) {
	o := startOrigin(t, nil, func(req *http.Request, w *bufio.Writer) bool {
		w.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nCache-Con")
		return true
	})
	c := newClient(t, &http.Transport{})
	done := make(chan error, 1)
	go func() {
		_, err := fetch(t, c, "GET", "http://"+o.addr+"/")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a head cut short was read as a response")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request still waited 5 s after the origin closed mid-head")
	}
}

// TestMaxHead checks that a head longer than MaxHead is passed on as it
// is: net/http reads a long head it accepts, and refuses one with a
// transfer coding, as without this package.
func TestMaxHead(t *testing.T) {
	long := strings.Repeat("a", framing.MaxHead)
	o := startOrigin(t, nil, script(map[string]string{
		"/ok":  "HTTP/1.1 200 OK\nX-Long: " + long + "\nContent-Length: 2\n\nok",
		"/bad": "HTTP/1.1 200 OK\nX-Long: " + long + "\nTransfer-Encoding: gzip\n\nbad",
	}))
	c := newClient(t, &http.Transport{})
	if g, err := fetch(t, c, "GET", "http://"+o.addr+"/ok"); err != nil || g.body != "ok" {
		t.Errorf("long head: %+v, %v", g, err)
	}
	if _, err := fetch(t, c, "GET", "http://"+o.addr+"/bad"); err == nil {
		t.Errorf("long head with gzip: read, want refused")
	}
}

// TestTraceKept checks that the hooks of a trace the caller set still run
// (httputil.ReverseProxy relays 1xx responses through Got1xxResponse).
func TestTraceKept(t *testing.T) {
	o := startOrigin(t, nil, script(map[string]string{
		"/close": "HTTP/1.1 103 Early Hints\nLink: </a.css>; rel=preload\n\nHTTP/1.1 200 OK\nTransfer-Encoding: gzip\n\nx",
	}))
	c := newClient(t, &http.Transport{})
	var links []string
	var gotConn bool
	trace := &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			links = append(links, fmt.Sprint(code, " ", h.Get("Link")))
			return nil
		},
		GotConn: func(httptrace.GotConnInfo) { gotConn = true },
	}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+o.addr+"/close", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "x" || !gotConn || fmt.Sprint(links) != "[103 </a.css>; rel=preload]" {
		t.Errorf("body %q, GotConn %v, 1xx %q", b, gotConn, links)
	}
}

// TestUnwrappedTransport checks that requests sent through the transport
// directly, not through Wrap's Transport, get net/http's framing.
func TestUnwrappedTransport(t *testing.T) {
	o := startOrigin(t, nil, script(map[string]string{"/close": "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n\nx"}))
	tr := &http.Transport{}
	framing.Wrap(tr)
	defer tr.CloseIdleConnections()
	_, err := fetch(t, &http.Client{Transport: tr}, "GET", "http://"+o.addr+"/close")
	if err == nil || !strings.Contains(err.Error(), "transfer encoding") {
		t.Errorf("got %v, want net/http's unsupported transfer encoding", err)
	}
}

// TestTLS checks the TLS connections Wrap makes: certificate checked
// against TLSClientConfig, the host name from the address, and responses
// reframed above TLS.
func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler()) // for its certificate
	defer srv.Close()
	o := startOrigin(t, &tls.Config{Certificates: srv.TLS.Certificates}, script(map[string]string{
		"/gzip/close": "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n\nsecret",
		"/a":          "HTTP/1.1 200 OK\nTransfer-Encoding: z, chunked\n\n1\na\n0\n\n",
	}))
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := newClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
	// httptest's certificate names 127.0.0.1 and example.com.
	for _, path := range []string{"/gzip/close", "/a", "/a"} {
		g, err := fetch(t, c, "GET", "https://"+o.addr+path)
		if err != nil || g.status != 200 {
			t.Fatalf("%s: %+v, %v", path, g, err)
		}
	}
	if n := o.conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	// A certificate the client does not trust is refused.
	untrusting := newClient(t, &http.Transport{})
	if _, err := fetch(t, untrusting, "GET", "https://"+o.addr+"/a"); err == nil {
		t.Errorf("an untrusted certificate was accepted")
	}
}

// TestCloseWrite checks a tunnel after 101 (Switching Protocols, RFC 9110
// §7.8, §15.2.2) through a wrapped connection: the tunnel's bytes pass as
// they are, in both directions, and the response Body's CloseWrite shuts
// down the writing side of the connection only, so that the origin reads
// the client's bytes to their end and still answers (this is how
// httputil.ReverseProxy passes a client's half close on to the origin).
// A connection that cannot half close says so.
func TestCloseWrite(t *testing.T) {
	tests := []struct {
		name string
		head string // the origin's 101, LF line ends
		// wrap, if set, wraps the connection the transport dials.
		wrap    func(net.Conn) net.Conn
		wantErr error // of CloseWrite
	}{
		{name: "tcp", head: "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: echo\n\n"},
		// RFC 9112 §6.3 rule 1: a 1xx has no content; Transfer-Encoding is
		// removed from the head and the tunnel after it is left alone.
		{name: "tcp-reframed", head: "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: echo\nTransfer-Encoding: x\n\n"},
		{name: "no-half-close", head: "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: echo\n\n",
			wrap: func(c net.Conn) net.Conn { return struct{ net.Conn }{c} }, wantErr: http.ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			originDone := make(chan string, 1) // what the origin read after its 101
			go func() {
				defer close(originDone)
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				// The first tunnel bytes in the same write as the head.
				io.WriteString(c, strings.ReplaceAll(tt.head, "\n", "\r\n")+"ready\n")
				b, err := io.ReadAll(br) // to the client's half close
				if err == nil {
					io.WriteString(c, "got "+string(b))
				}
				originDone <- string(b)
			}()
			t.Cleanup(func() { ln.Close(); <-originDone })

			tr := &http.Transport{}
			if tt.wrap != nil {
				tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
					c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					return tt.wrap(c), nil
				}
			}
			rt := framing.Wrap(tr)
			defer rt.CloseIdleConnections()
			req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/tunnel", nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "echo")
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			tunnel, ok := resp.Body.(io.ReadWriteCloser)
			if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
				t.Fatalf("got %d, a %T body; want 101 and a tunnel", resp.StatusCode, resp.Body)
			}
			defer tunnel.Close()
			if v := resp.Header.Values("Transfer-Encoding"); len(v) > 0 {
				t.Errorf("Transfer-Encoding %q reached the client", v)
			}
			if _, err := io.WriteString(tunnel, "hello"); err != nil {
				t.Fatal(err)
			}
			cw, ok := tunnel.(interface{ CloseWrite() error })
			if !ok {
				t.Fatalf("the tunnel, a %T, has no CloseWrite", tunnel)
			}
			err = cw.CloseWrite()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("CloseWrite: %v, want %v", err, tt.wantErr)
				}
				tunnel.Close()
				if got := <-originDone; got != "hello" {
					t.Errorf("the origin read %q, want hello", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("CloseWrite: %v", err)
			}
			b, err := io.ReadAll(tunnel)
			if err != nil || string(b) != "ready\ngot hello" {
				t.Errorf("read %q, %v; want the origin's answer after the half close", b, err)
			}
		})
	}
}
