package transport

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ nanos atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.nanos.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

func get(t *testing.T, client *http.Client, url string, fields ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Set(fields[i], fields[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestTransport(t *testing.T) {
	c := &clock{}
	c.nanos.Store(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).UnixNano())
	var requests, conditional atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Date", c.Now().Format(http.TimeFormat))
		w.Header().Set("Etag", `"v1"`)
		switch r.URL.Path {
		case "/private":
			w.Header().Set("Cache-Control", "private, max-age=60")
		case "/shared-only":
			w.Header().Set("Cache-Control", "s-maxage=60")
		default:
			w.Header().Set("Cache-Control", "max-age=60")
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			conditional.Add(1)
			w.Header().Set("Cache-Control", "max-age=120")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "hello "+r.URL.Path)
	}))
	defer origin.Close()
	tr, err := New(Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr}

	// RFC 9111 §4.2: a fresh response is reused without the network.
	resp, body := get(t, client, origin.URL+"/a")
	if body != "hello /a" || !strings.Contains(resp.Header.Get("Cache-Status"), "fwd=uri-miss") {
		t.Fatalf("first: %q %v", body, resp.Header)
	}
	resp, body = get(t, client, origin.URL+"/a")
	if body != "hello /a" || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "notmod-private; hit") || requests.Load() != 1 {
		t.Fatalf("second: %q %v after %d requests", body, resp.Header, requests.Load())
	}
	// §4.3.2: the caller's own conditional request is answered from cache.
	resp, body = get(t, client, origin.URL+"/a", "If-None-Match", `"v1"`)
	if resp.StatusCode != 304 || body != "" || requests.Load() != 1 {
		t.Fatalf("conditional: %d %q", resp.StatusCode, body)
	}
	// §4.3.1, §4.3.4: once stale, it is revalidated; the 304 refreshes it
	// and the caller gets the stored content.
	c.Advance(2 * time.Minute)
	resp, body = get(t, client, origin.URL+"/a")
	if resp.StatusCode != 200 || body != "hello /a" || conditional.Load() != 1 || resp.Header.Get("Cache-Control") != "max-age=120" {
		t.Fatalf("revalidated: %d %q %v, %d conditional", resp.StatusCode, body, resp.Header, conditional.Load())
	}
	// §3: a private cache stores private responses...
	get(t, client, origin.URL+"/private")
	before := requests.Load()
	if _, body := get(t, client, origin.URL+"/private"); body != "hello /private" || requests.Load() != before {
		t.Fatalf("private response not reused")
	}
	// §4.2.1: ...and ignores s-maxage.
	get(t, client, origin.URL+"/shared-only")
	before = requests.Load()
	get(t, client, origin.URL+"/shared-only")
	if requests.Load() == before {
		t.Fatal("s-maxage used by a private cache")
	}
}

// An unreachable origin gets the stored response where allowed
// (RFC 9111 §4.2.4), and an error otherwise.
func TestTransportOffline(t *testing.T) {
	c := &clock{}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=1")
		io.WriteString(w, "saved")
	}))
	tr, _ := New(Options{Now: c.Now})
	client := &http.Client{Transport: tr}
	get(t, client, origin.URL+"/x")
	origin.Close()
	c.Advance(time.Minute)
	resp, body := get(t, client, origin.URL+"/x")
	if body != "saved" || !strings.Contains(resp.Header.Get("Cache-Status"), "origin-unreachable") {
		t.Fatalf("offline: %q %v", body, resp.Header)
	}
	if _, err := client.Get(origin.URL + "/never-stored"); err == nil {
		t.Fatal("no error for an unreachable origin and nothing stored")
	}
}
