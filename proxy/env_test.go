// The end-to-end harness: an origin and the proxy on loopback sockets,
// a real client, and an injected clock.

package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/internal/httplex"
	"github.com/notmod/notmod/proxy"
	"github.com/notmod/notmod/store/memory"
)

// The end-to-end tests run a real origin and the proxy on loopback
// sockets (httptest, port 0) and talk to the proxy with a real
// http.Client. Time is a testClock that both the cache and its store read,
// so that freshness and staleness are set by moving the clock, never by
// sleeping.

// testClock is a clock moved by hand. It is safe for concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// epoch is the time every testClock starts at: a whole second, so that
// the Date fields the origin sends equal the clock exactly.
func epoch() time.Time { return time.Date(2025, time.March, 1, 12, 0, 0, 0, time.UTC) }

func newTestClock() *testClock { return &testClock{now: epoch()} }

// Now returns the clock's time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// httpDate formats t as an IMF-fixdate.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// seenRequest is what the origin saw of one request.
type seenRequest struct {
	Method string
	URI    string
	Header http.Header
}

// env is one origin, one cache and one proxy in front of it.
type env struct {
	clock  *testClock
	origin *httptest.Server
	front  *frontEnd
	client *http.Client
	cache  *httpcache.Cache

	originCount atomic.Int64
	mu          sync.Mutex
	seen        []seenRequest

	// revalidated receives a value each time a 304 from the origin
	// refreshed a stored response; stored, each time a full response from
	// the origin was stored. Values are dropped when nobody reads them.
	revalidated chan struct{}
	stored      chan struct{}
}

// envOptions changes the defaults of newEnv.
type envOptions struct {
	cache httpcache.Options // Store and Now are set by newEnv
	proxy proxy.Options     // Origin and Cache are set by newEnv
	// arrived, if set, is called with each request's header as it
	// reaches the front end, before the cache sees it.
	arrived func(header func(name string) string)
}

// newEnv starts origin, which sees a Date field already set from the test
// clock (it may replace it), and the proxy in front of it. Everything is
// closed when the test ends.
func newEnv(t *testing.T, origin http.HandlerFunc, o envOptions) *env {
	t.Helper()
	e := &env{clock: newTestClock(), revalidated: make(chan struct{}, 16), stored: make(chan struct{}, 16)}
	e.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.originCount.Add(1)
		e.mu.Lock()
		e.seen = append(e.seen, seenRequest{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone()})
		e.mu.Unlock()
		w.Header().Set("Date", httpDate(e.clock.Now()))
		origin(w, r)
	}))
	t.Cleanup(e.origin.Close)

	st, err := memory.New(memory.Options{Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	co := o.cache
	co.Store, co.Now = st, e.clock.Now
	observe := co.Observe
	co.Observe = func(ev httpcache.Event) {
		if ev.Revalidated {
			notify(e.revalidated)
		}
		if st := ev.Status; st.Stored && st.FwdStatus != http.StatusNotModified && ev.NotStored == httpcache.Storable && ev.StoreError == nil && !ev.Revalidated {
			notify(e.stored)
		}
		if observe != nil {
			observe(ev)
		}
	}
	e.cache, err = httpcache.New(co)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.origin.URL)
	if err != nil {
		t.Fatal(err)
	}
	po := o.proxy
	po.Origin, po.Cache = u, e.cache
	p, err := proxy.New(po)
	if err != nil {
		t.Fatal(err)
	}
	e.front = startFront(t, p, o.arrived)
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 128}
	t.Cleanup(tr.CloseIdleConnections)
	e.client = &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return e
}

// count returns how many requests the origin has seen.
func (e *env) count() int64 { return e.originCount.Load() }

// lastSeen returns the last request the origin saw.
func (e *env) lastSeen(t *testing.T) seenRequest {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.seen) == 0 {
		t.Fatal("the origin saw no request")
	}
	return e.seen[len(e.seen)-1]
}

// reply is what the client got from the proxy.
type reply struct {
	code   int
	header http.Header
	body   string
	length int64 // Content-Length as the client read it, or -1
}

// status returns the Cache-Status field of the reply.
func (r reply) status() string { return r.header.Get("Cache-Status") }

// do sends method path to the proxy with the header fields given as
// name, value pairs, and reads the whole reply. It must be called from
// the test's goroutine; others use fetch.
func (e *env) do(t *testing.T, method, path string, fields ...string) reply {
	t.Helper()
	r, err := e.fetch(method, path, fields...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fetch is do for any goroutine: it returns the error.
func (e *env) fetch(method, path string, fields ...string) (reply, error) {
	req, err := http.NewRequest(method, e.front.URL+path, nil)
	if err != nil {
		return reply{}, err
	}
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Add(fields[i], fields[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the body: %w", method, path, err)
	}
	return reply{code: resp.StatusCode, header: resp.Header, body: string(b), length: resp.ContentLength}, nil
}

// check asserts the status code, the Cache-Status (unless cacheStatus is
// "") and, unless body is nil, the content of a reply. A HEAD reply must have no content, whatever
// body says.
func (e *env) check(t *testing.T, what string, r reply, method string, code int, cacheStatus string, body *string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: status %d, want %d (Cache-Status %q)", what, r.code, code, r.status())
	}
	if got := r.status(); cacheStatus != "" && got != cacheStatus {
		t.Errorf("%s: Cache-Status %q, want %q", what, got, cacheStatus)
	}
	switch {
	case method == http.MethodHead || code == http.StatusNotModified:
		if r.body != "" {
			t.Errorf("%s: %d bytes of content, want none", what, len(r.body))
		}
	case body != nil && r.body != *body:
		t.Errorf("%s: content %q, want %q", what, clip(r.body), clip(*body))
	}
}

// wantCount asserts how many requests the origin has seen.
func (e *env) wantCount(t *testing.T, what string, n int64) {
	t.Helper()
	if got := e.count(); got != n {
		t.Errorf("%s: the origin saw %d requests, want %d", what, got, n)
	}
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func ptr(s string) *string { return &s }

// listMembers returns the members of a comma-separated field value.
func listMembers(lines []string) []string {
	var out []string
	for el := range httplex.ElementsOf(lines) {
		out = append(out, el)
	}
	slices.Sort(out)
	return out
}

// bothMethods returns the methods a table runs for when both apply.
func bothMethods() []string { return []string{http.MethodGet, http.MethodHead} }

// within waits for ch up to d and reports whether it delivered.
func within(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// proxyOptions returns proxy options with the given response timeout.
func proxyOptions(responseTimeout time.Duration) proxy.Options {
	return proxy.Options{ResponseTimeout: responseTimeout}
}

// dropTTL returns a Cache-Status member without its ttl parameter.
func dropTTL(member string) string {
	i := strings.Index(member, "; ttl=")
	if i < 0 {
		return member
	}
	j := strings.Index(member[i+1:], ";")
	if j < 0 {
		return member[:i]
	}
	return member[:i] + member[i+1+j:]
}

// notify sends on ch unless it is full.
func notify(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
