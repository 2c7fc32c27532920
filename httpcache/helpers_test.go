package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/store/memory"
)

// t0 is the time every test clock starts at: a whole second, so that it
// survives a round trip through an HTTP-date.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// testClock is a clock that moves only when told to.
type testClock struct {
	nanos atomic.Int64
}

func newTestClock() *testClock {
	c := &testClock{}
	c.nanos.Store(t0.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

// newTestCache returns a cache on a memory store, both reading one clock.
// o.Store and o.Now are set by newTestCache.
func newTestCache(t testing.TB, o Options) (*Cache, *testClock) {
	t.Helper()
	clock := newTestClock()
	o.Store = memory.Must(memory.Options{Clock: clock.Now})
	o.Now = clock.Now
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}

// httpDate formats t as an HTTP-date.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// newRequest returns a server-side request for target on example.com, with
// the given header fields (name, value pairs).
func newRequest(method, target string, fields ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(fields); i += 2 {
		r.Header.Add(fields[i], fields[i+1])
	}
	return r
}

// header builds an http.Header from name, value pairs.
func header(fields ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(fields); i += 2 {
		h.Add(fields[i], fields[i+1])
	}
	return h
}

// newResponse builds the response of an origin by hand.
func newResponse(req *http.Request, status int, h http.Header, body string) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// exchange looks req up, expects it to be forwarded, hands resp (built by
// mk from the outbound request) to Receive and reads the answer to the
// end, which commits a stored entry. It returns the answer, its content
// and its Cache-Status.
func exchange(t testing.TB, c *Cache, req *http.Request, mk func(out *http.Request) *http.Response) (*http.Response, string, string) {
	t.Helper()
	l := c.Lookup(req)
	defer l.Release()
	if l.Decision != Forward {
		t.Fatalf("Lookup(%s %s) = %v, want forward", req.Method, req.URL, l.Decision)
	}
	out := req.Clone(req.Context())
	l.Outbound(out.Header)
	got, err := l.Receive(mk(out))
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	body, err := io.ReadAll(got.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	if err := got.Body.Close(); err != nil {
		t.Fatalf("closing the answer: %v", err)
	}
	return got, string(body), got.Header.Get("Cache-Status")
}

// storeResponse stores a 200 with h and body for req, the way a miss does.
// A Date of the clock's time is added unless h has one.
func storeResponse(t testing.TB, c *Cache, req *http.Request, h http.Header, body string) {
	t.Helper()
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	if _, ok := h["Date"]; !ok {
		h.Set("Date", httpDate(c.Now()))
	}
	got, _, status := exchange(t, c, req, func(out *http.Request) *http.Response {
		return newResponse(out, http.StatusOK, h, body)
	})
	if !strings.Contains(status, "; stored") {
		t.Fatalf("storing %s: answer %d with Cache-Status %q, want stored", req.URL, got.StatusCode, status)
	}
}
