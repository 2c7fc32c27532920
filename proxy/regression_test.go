package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// DESIGN (Set-Cookie never shared), RFC 9111 §3.2: a 304 carrying Set-Cookie (session refresh) is merged into the shared
// stored response and then served to every other user.
func TestRegression304SetCookieLeaks(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") != "" {
			if c, err := r.Cookie("session"); err == nil {
				w.Header().Set("Set-Cookie", "session="+c.Value+"; Path=/")
			}
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "hello")
	}, envOptions{})
	e.do(t, "GET", "/p")                                   // stored, no cookie
	e.clock.Advance(20 * time.Second)                      // stale
	e.do(t, "GET", "/p", "Cookie", "session=alice-secret") // 304 with Set-Cookie: session=alice
	r := e.do(t, "GET", "/p")                              // bob, a fresh hit
	t.Logf("bob got Cache-Status=%q Set-Cookie=%q", r.status(), r.header.Values("Set-Cookie"))
	if len(r.header.Values("Set-Cookie")) > 0 {
		t.Errorf("another user's Set-Cookie served from the shared cache: %q", r.header.Values("Set-Cookie"))
	}
}

// RFC 9111 §3, §4.3.4, §5.2.2.5, §5.2.2.7: a 304 that marks the response private/no-store keeps it stored and
// served to everyone.
func TestRegression304PrivateStillServed(t *testing.T) {
	for _, cc := range []string{"private, max-age=60", "no-store, max-age=60"} {
		t.Run(cc, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Etag", `"v1"`)
				if r.Header.Get("If-None-Match") != "" {
					w.Header().Set("Cache-Control", cc)
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("Cache-Control", "max-age=10")
				io.WriteString(w, "hello")
			}, envOptions{})
			e.do(t, "GET", "/p")
			e.clock.Advance(20 * time.Second)
			e.do(t, "GET", "/p")
			n := e.count()
			r := e.do(t, "GET", "/p")
			t.Logf("third GET: %q cc=%q", r.status(), r.header.Get("Cache-Control"))
			if e.count() == n {
				t.Errorf("response now marked %q served from the shared cache: %q", cc, r.status())
			}
		})
	}
}

// Collapsing: a forwarded GET whose response is not stored and whose body copy fails
// (origin aborts mid-body, or the client goes away) makes ReverseProxy panic
// with http.ErrAbortHandler; ServeHTTP never reaches l.Release(), the flight
// never lands and every later GET of the URL waits forever.
func TestRegressionFlightLeakOnAbort(t *testing.T) {
	first := true
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private")
		if first {
			first = false
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, "ok")
	}, envOptions{})
	_, err := e.fetch("GET", "/leak")
	t.Logf("first: %v", err)
	e.client.Timeout = 2 * time.Second
	r, err := e.fetch("GET", "/leak")
	if err != nil {
		t.Fatalf("second GET after an aborted one: %v (origin saw %d)", err, e.count())
	}
	t.Logf("second: %d %q", r.code, r.body)
}

// Collapsing: a slow (or stalled) client reading a non-storable response holds the
// flight: every other GET for the URL waits until it has read everything.
func TestRegressionSlowLeaderBlocksOthers(t *testing.T) {
	big := strings.Repeat("x", 32<<20)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private")
		io.WriteString(w, big)
	}, envOptions{})
	req, _ := http.NewRequest("GET", e.front.URL+"/big", nil)
	resp, err := e.client.Do(req) // headers only; body never read
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	c2 := &http.Client{Timeout: 3 * time.Second}
	start := time.Now()
	r2, err := c2.Get(e.front.URL + "/big")
	if err != nil {
		t.Fatalf("second client blocked behind a slow one: %v after %v", err, time.Since(start))
	}
	io.Copy(io.Discard, r2.Body)
	r2.Body.Close()
}

// RFC 9111 §4.3.4, §4.1: a 304 that adds Vary to a stored response without Vary keeps it
// served to every request regardless of the new Vary.
func TestRegression304VaryAdded(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", `"v1"`)
		w.Header().Set("Cache-Control", "max-age=10")
		if r.Header.Get("If-None-Match") != "" {
			w.Header().Set("Vary", "Accept-Language")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "hello")
	}, envOptions{})
	e.do(t, "GET", "/v", "Accept-Language", "en")
	e.clock.Advance(20 * time.Second)
	e.do(t, "GET", "/v", "Accept-Language", "en")
	r := e.do(t, "GET", "/v", "Accept-Language", "fr")
	t.Logf("fr: %q vary=%q", r.status(), r.header.Get("Vary"))
	if strings.Contains(r.status(), "hit") {
		t.Errorf("fr request served the en-selected response despite Vary: Accept-Language")
	}
}

// DESIGN (an origin that hangs hits a timeout): the origin sends headers then stalls: no body timeout.
func TestRegressionOriginStallsMidBody(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "x")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, envOptions{proxy: proxyOptions(time.Second)})
	e.client.Timeout = 4 * time.Second
	_, err := e.fetch("GET", "/stall")
	t.Logf("stalled origin: %v", err)
	if err != nil && strings.Contains(err.Error(), "Client.Timeout") {
		t.Errorf("the proxy never times out an origin that stalls mid-body (ResponseTimeout=1s): %v", err)
	}
}
