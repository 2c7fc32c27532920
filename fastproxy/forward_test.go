package fastproxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/proxy"
	"github.com/notmod/notmod/store/memory"
	"github.com/valyala/fasthttp"
)

// front starts the fast front end before origin and returns its base URL
// and the server. With o.Loops unset, NOTMOD_LOOPS, if set, says how many
// event loops it runs (-1: none); scripts/test runs these tests with
// loops (the default) and without.
func front(t *testing.T, origin http.Handler, o Options) (string, *Server) {
	t.Helper()
	if n, err := strconv.Atoi(os.Getenv("NOTMOD_LOOPS")); err == nil && o.Loops == 0 {
		o.Loops = n
	}
	o.Proxy = originProxy(t, origin)
	addr, s := serveFront(t, o)
	return "http://" + addr, s
}

// originProxy starts origin and returns a proxy for it, on a memory
// store, that stores up to 1 MiB.
func originProxy(t testing.TB, origin http.Handler) *proxy.Proxy {
	t.Helper()
	srv := httptest.NewServer(origin)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	c := httpcache.Must(httpcache.Options{Store: memory.Must(memory.Options{}), MaxObjectSize: 1 << 20})
	p, err := proxy.New(proxy.Options{Origin: u, Cache: c, ResponseTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// serveFront serves a front end made with o on a loopback port until the
// test ends, when it is shut down (and must shut down cleanly); it returns
// the address and the server.
func serveFront(t testing.TB, o Options) (string, *Server) {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String(), s
}

// TestStreamsLargeResponses checks that a response larger than what the
// front end buffers streams through with its Content-Length, and that one
// without a length streams chunked (RFC 9112 §7.1), byte for byte.
func TestStreamsLargeResponses(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB, past max-object
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/sized" {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		}
		for off := 0; off < len(big); off += 64 << 10 {
			_, _ = w.Write(big[off : off+64<<10])
		}
	}), Options{})
	for _, path := range []string{"/sized", "/unsized"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if sha256.Sum256(b) != sha256.Sum256(big) {
			t.Errorf("%s: %d bytes that differ from the origin's %d", path, len(b), len(big))
		}
		if path == "/sized" && resp.ContentLength != int64(len(big)) {
			t.Errorf("%s: Content-Length %d, want %d", path, resp.ContentLength, len(big))
		}
		if path == "/unsized" && (resp.ContentLength != -1 || len(resp.TransferEncoding) == 0) {
			t.Errorf("%s: Content-Length %d, Transfer-Encoding %v, want chunked", path, resp.ContentLength, resp.TransferEncoding)
		}
	}
}

// TestFlushesEvents checks that what an origin flushes reaches the client
// before the response ends (an event stream).
func TestFlushesEvents(t *testing.T) {
	release := make(chan struct{})
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "data: second\n\n")
	}), Options{})
	defer close(release)
	// The origin sends the second event only once the test has read the
	// first: if the first were held back, the read would time out.
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /events HTTP/1.1\r\nHost: cache.test\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event: %q, %v", line, err)
	}
}

// TestStreamsLargeUploads checks that a request body larger than what the
// front end buffers reaches the origin whole, with and without a length.
func TestStreamsLargeUploads(t *testing.T) {
	up := bytes.Repeat([]byte("upload-"), 1<<19) // 3.5 MiB
	var got atomic.Value
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got.Store(sha256.Sum256(b))
		_, _ = io.WriteString(w, strconv.Itoa(len(b)))
	}), Options{BufferedBody: 64 << 10})
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(up)
		if chunked {
			body = io.MultiReader(bytes.NewReader(up)) // no length known
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/upload", body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != strconv.Itoa(len(up)) || got.Load() != sha256.Sum256(up) {
			t.Errorf("chunked=%v: %d %q, want the origin to get all %d bytes", chunked, resp.StatusCode, b, len(up))
		}
	}
}

// TestClientGoneMidStream checks that a client that disconnects in the
// middle of a streamed response stops the copy from the origin, and the
// server goes on serving.
func TestClientGoneMidStream(t *testing.T) {
	stopped := make(chan struct{})
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			_, _ = io.WriteString(w, "ok")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for i := 0; i < 4096; i++ { // 256 MiB if nobody stops it
			if _, err := w.Write(chunk); err != nil {
				close(stopped)
				return
			}
			w.(http.Flusher).Flush()
		}
	}), Options{})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET /endless HTTP/1.1\r\nHost: cache.test\r\n\r\n")
	buf := make([]byte, 256<<10)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the origin was still being read 10 s after the client left")
	}
	resp, err := http.Get(base + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("next request: %d", resp.StatusCode)
	}
}

// TestHTTP10 checks an HTTP/1.0 client gets a response it can read: a
// hit with its length, a close-delimited body for one of unknown length.
func TestHTTP10(t *testing.T) {
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Etag", `"x"`)
		w.(http.Flusher).Flush() // no length
		_, _ = io.WriteString(w, "hello, 1.0")
	}), Options{})
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, "GET /old HTTP/1.0\r\nHost: cache.test\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		c.Close()
		if err != nil || string(b) != "hello, 1.0" {
			t.Errorf("request %d: %q, %v", i, b, err)
		}
		if i == 1 && !strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
			t.Errorf("request %d: Cache-Status %q, want a hit", i, resp.Header.Get("Cache-Status"))
		}
	}
}

// TestGracefulShutdown checks that Shutdown lets a request being served
// finish, and refuses new connections afterwards.
func TestGracefulShutdown(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	base, s := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		_, _ = io.WriteString(w, "finished")
	}), Options{})
	result := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			result <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(b)
	}()
	<-arrived
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	close(release)
	if got := <-result; got != "finished" {
		t.Errorf("in-flight request: %q, want finished", got)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		t.Error("a connection was accepted after Shutdown")
	}
}

// TestEarlyAnswerToUpload checks that an origin's answer to an upload it
// did not read (a 413, say) reaches the client while the client still
// holds the rest of its body back, and that the connection is then
// closed, its unread body being unusable as the next request.
func TestEarlyAnswerToUpload(t *testing.T) {
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
	}), Options{BufferedBody: 64 << 10})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "POST /up HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 4194304\r\n\r\n")
	_, _ = c.Write(bytes.Repeat([]byte("u"), 256<<10)) // past what is buffered; the rest never comes
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer while the upload was held back: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close {
		t.Errorf("got %d (close %v), want 413 and the connection closed", resp.StatusCode, resp.Close)
	}
}

// TestHTTP10UnknownLength checks that content of unknown length reaches
// an HTTP/1.0 client delimited by the connection's close, not chunked
// (RFC 9112 §6.1: Transfer-Encoding is for HTTP/1.1 recipients only).
func TestHTTP10UnknownLength(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 20<<10) // 200 KiB: streamed
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.(http.Flusher).Flush()
		_, _ = w.Write(big)
	}), Options{})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /stream HTTP/1.0\r\nHost: cache.test\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	raw, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no head in %q", raw[:min(len(raw), 200)])
	}
	if bytes.Contains(bytes.ToLower(head), []byte("transfer-encoding")) {
		t.Errorf("an HTTP/1.0 client got Transfer-Encoding:\n%s", head)
	}
	if !bytes.Equal(body, big) {
		t.Errorf("content: %d bytes that differ from the origin's %d", len(body), len(big))
	}
}

// TestKeepAliveUnknownLength checks that a forwarded response of unknown
// length (chunked to the client) keeps the connection for the next,
// pipelined, request.
func TestKeepAliveUnknownLength(t *testing.T) {
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "part of "+r.URL.Path)
	}), Options{})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /one HTTP/1.1\r\nHost: cache.test\r\n\r\nGET /two HTTP/1.1\r\nHost: cache.test\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for _, want := range []string{"part of /one", "part of /two"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != want {
			t.Fatalf("got %q, %v; want %q", b, err, want)
		}
	}
}

// TestRefusedHeadRemembered checks that a stored head fasthttp will not
// read is refused once per entry and second (and logged once), not parsed
// again on every hit.
func TestRefusedHeadRemembered(t *testing.T) {
	var logs bytes.Buffer
	s, err := New(Options{Proxy: originProxy(t, http.NotFoundHandler()), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	wire := []byte("HTTP/1.1 200 OK\r\nX-Ctl: a\x01b\r\nContent-Length: 0\r\n")
	age, status := []string{"1"}, []string{"notmod; hit"}
	var ctx fasthttp.RequestCtx
	for i := 0; i < 3; i++ {
		if s.setHead(&ctx.Response.Header, wire, http.StatusOK, age, status) {
			t.Fatalf("try %d: a head with a control character in a value (RFC 9110 §5.5) was taken", i)
		}
	}
	if n := strings.Count(logs.String(), "stored head refused"); n != 1 {
		t.Errorf("refused %d times, want once:\n%s", n, logs.String())
	}
}
