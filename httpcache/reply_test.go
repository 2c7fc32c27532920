package httpcache

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// TestReplyObservedOnce checks that a reply is counted once per lookup,
// though a front end that could not send it asks for it again (RFC 9211
// counts what the cache did for the request, once).
func TestReplyObservedOnce(t *testing.T) {
	var events atomic.Int64
	c, clock := newTestCache(t, Options{Observe: func(e Event) {
		if e.Status.Hit {
			events.Add(1)
		}
	}})
	req := newRequest(http.MethodGet, "/once")
	storeResponse(t, c, req, header("Cache-Control", "max-age=60", "Date", httpDate(clock.Now()), "Etag", `"o"`), "content")
	for _, inm := range []string{"", `"o"`} {
		events.Store(0)
		r := newRequest(http.MethodGet, "/once")
		if inm != "" {
			r.Header.Set("If-None-Match", inm)
		}
		l := c.Lookup(r)
		if l.Decision != Serve {
			t.Fatalf("decision %v, want serve", l.Decision)
		}
		code1, _ := l.Reply()
		code2, _ := l.Reply()
		l.Release()
		if code1 != code2 {
			t.Errorf("If-None-Match %q: codes %d then %d", inm, code1, code2)
		}
		if n := events.Load(); n != 1 {
			t.Errorf("If-None-Match %q: %d hit events for one request, want 1", inm, n)
		}
	}
}
