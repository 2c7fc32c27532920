// RFC 9111 §4 and RFC 9211 §2.6: request collapsing, end to end.

package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCollapsedForwarding sends many concurrent GETs for one URL that
// must go to the origin. The origin holds its answers until every client
// request has reached the proxy, so all of them are in flight together.
func TestCollapsedForwarding(t *testing.T) {
	const clients = 100
	cases := map[string]struct {
		cacheControl string
		stale        bool // a stale response with a validator is stored first
		conditional  bool // odd clients send If-None-Match with the current tag
		wantOrigin   int64
		leader       string // Cache-Status of the response from the origin
		collapsed    string // of a request that waited for it (RFC 9211 §2.6)
		waiter       string // of one that came after it was stored; "" when not shared
	}{
		// RFC 9111 §4: a storable response answers every waiting request;
		// the origin sees one.
		"public": {
			cacheControl: "public, max-age=60", wantOrigin: 1,
			leader:    "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60",
			collapsed: "notmod; fwd=uri-miss; collapsed; ttl=60", waiter: "notmod; hit; ttl=60",
		},
		// RFC 9111 §4.3.2: each waiter's own conditions are evaluated
		// against the stored response.
		"public, conditional clients": {
			cacheControl: "public, max-age=60", conditional: true, wantOrigin: 1,
			leader:    "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60",
			collapsed: "notmod; fwd=uri-miss; collapsed; ttl=60", waiter: "notmod; hit; ttl=60",
		},
		// RFC 9111 §4.3.1, §4.3.4: one validation refreshes the stored
		// response for every waiter.
		"stale": {
			cacheControl: "max-age=60", stale: true, wantOrigin: 2,
			leader:    "notmod; fwd=stale; fwd-status=304; stored; ttl=600",
			collapsed: "notmod; fwd=stale; collapsed; ttl=600", waiter: "notmod; hit; ttl=600",
		},
		// RFC 9111 §3.5, §5.2.2.7: a private response is for its own
		// client only: the others go to the origin themselves, those that
		// waited saying so with collapsed=?0 (RFC 9211 §2.6).
		"private": {
			cacheControl: "private, max-age=60", wantOrigin: clients,
			leader:    "notmod; fwd=uri-miss; fwd-status=200; detail=private",
			collapsed: "notmod; fwd=uri-miss; fwd-status=200; collapsed=?0; detail=private",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var arrived atomic.Int64
			allIn := make(chan struct{})
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-Client") != "prime" && !within(allIn, 5*time.Second) {
					t.Errorf("origin: only %d of %d requests reached the proxy", arrived.Load(), clients)
				}
				w.Header().Set("Etag", `"p1"`)
				if r.Header.Get("If-None-Match") == `"p1"` {
					w.Header().Set("Cache-Control", "max-age=600")
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("Cache-Control", tc.cacheControl)
				_, _ = io.WriteString(w, "for client "+r.Header.Get("X-Client"))
			}, envOptions{arrived: func(header func(string) string) {
				if header("X-Client") != "prime" && arrived.Add(1) == clients {
					close(allIn)
				}
			}})
			if tc.stale {
				e.do(t, http.MethodGet, "/popular", "X-Client", "prime")
				e.clock.Advance(2 * time.Minute)
			}

			replies := make([]reply, clients)
			var wg sync.WaitGroup
			for i := range clients {
				wg.Go(func() {
					fields := []string{"X-Client", strconv.Itoa(i)}
					if tc.conditional && i%2 == 1 {
						fields = append(fields, "If-None-Match", `"p1"`)
					}
					r, err := e.fetch(http.MethodGet, "/popular", fields...)
					if err != nil {
						t.Error(err)
					}
					replies[i] = r
				})
			}
			wg.Wait()
			e.wantCount(t, "after all", tc.wantOrigin)

			leaders, collapsed := 0, 0
			var shared string
			for i, r := range replies {
				want := http.StatusOK
				if tc.conditional && i%2 == 1 {
					want = http.StatusNotModified
				}
				if r.code != want {
					t.Errorf("client %d: status %d, want %d", i, r.code, want)
					continue
				}
				if tc.waiter == "" {
					// Nobody gets another's private response.
					if want := fmt.Sprintf("for client %d", i); r.body != want {
						t.Errorf("client %d: content %q, want %q", i, r.body, want)
					}
					switch r.status() {
					case tc.leader:
						leaders++
					case tc.collapsed:
						collapsed++
					default:
						t.Errorf("client %d: Cache-Status %q, want %q or %q", i, r.status(), tc.leader, tc.collapsed)
					}
					continue
				}
				switch r.status() {
				case tc.leader:
					leaders++
				case tc.collapsed:
					collapsed++
				case tc.waiter:
				default:
					t.Errorf("client %d: Cache-Status %q", i, r.status())
				}
				if r.code == http.StatusOK {
					if shared == "" {
						shared = r.body
					}
					if r.body != shared || !strings.HasPrefix(r.body, "for client ") {
						t.Errorf("client %d: content %q, want the stored %q", i, r.body, shared)
					}
				}
			}
			if collapsed == 0 {
				t.Errorf("no response says it was collapsed: want %q", tc.collapsed)
			}
			t.Logf("%d from the origin, %d of %d collapsed", leaders, collapsed, clients)
			if tc.waiter == "" {
				return
			}
			if leaders != 1 {
				t.Errorf("%d responses came from the origin, want 1", leaders)
			}
			if tc.stale && shared != "for client prime" {
				t.Errorf("content %q, want the stored response's", shared)
			}
		})
	}
}
