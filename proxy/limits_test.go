// RFC 9111 §3.1 and §3.3: stored fields and the maximum object size, end
// to end.

package proxy_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/notmod/notmod/httpcache"
)

// TestLargeResponse checks that a response larger than the maximum object
// size streams through to the client whole and is not stored, whether its
// length is declared or not.
func TestLargeResponse(t *testing.T) {
	const maxObject = 1024
	cases := map[string]struct {
		size    int
		chunked bool
		stored  bool
	}{
		// Content-Length above the limit: not stored, said at once.
		"declared length over the limit": {size: 256 << 10},
		// No Content-Length (chunked, RFC 9112 §7.1): found out while
		// streaming.
		"chunked over the limit": {size: 256 << 10, chunked: true},
		// Exactly at the limit: stored.
		"declared length at the limit": {size: maxObject, stored: true},
		// RFC 9111 §3.3 allows storing a complete chunked response.
		"chunked under the limit": {size: maxObject / 2, chunked: true, stored: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			content := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16)
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("Content-Type", "application/octet-stream")
				if !tc.chunked {
					w.Header().Set("Content-Length", itoa(len(content)))
					_, _ = w.Write(content)
					return
				}
				for p := content; len(p) > 0; {
					n := min(len(p), 100)
					_, _ = w.Write(p[:n])
					p = p[n:]
					w.(http.Flusher).Flush()
				}
			}, envOptions{cache: httpcache.Options{MaxObjectSize: maxObject}})
			for i := range 2 {
				r := e.do(t, http.MethodGet, "/big")
				e.check(t, "GET", r, http.MethodGet, 200, "", ptr(string(content)))
				if len(r.body) != len(content) {
					t.Errorf("GET %d: %d bytes, want %d", i, len(r.body), len(content))
				}
				var want string
				switch {
				case tc.stored && i == 1:
					want = "notmod; hit; ttl=60"
				case tc.stored && tc.chunked:
					// RFC 9211 §2.4: the header goes before the size is
					// known, so it does not claim stored; the hit after
					// shows it was.
					want = "notmod; fwd=uri-miss; fwd-status=200; ttl=60"
				case tc.stored:
					want = "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60"
				case tc.chunked:
					// The size is not known when the header is sent, so
					// whether it was stored cannot be said in it.
					if got := r.status(); !strings.HasPrefix(got, "notmod; fwd=uri-miss; fwd-status=200") {
						t.Errorf("GET %d: Cache-Status %q, want a uri-miss", i, got)
					}
					continue
				default:
					want = "notmod; fwd=uri-miss; fwd-status=200; detail=too-large"
				}
				if got := r.status(); got != want {
					t.Errorf("GET %d: Cache-Status %q, want %q", i, got, want)
				}
			}
			want := int64(2)
			if tc.stored {
				want = 1
			}
			e.wantCount(t, "after two GETs", want)
		})
	}
}

// TestStoredHeaderSafety checks that the proxy does not store or replay
// hop-by-hop fields (RFC 9111 §3.1, RFC 9110 §7.6.1).
func TestStoredHeaderSafety(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "one connection only")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-End", "end to end")
		_, _ = w.Write([]byte("content"))
	}, envOptions{})
	e.do(t, http.MethodGet, "/hop")
	for _, m := range bothMethods() {
		r := e.do(t, m, "/hop")
		e.check(t, m, r, m, 200, "notmod; hit; ttl=60", ptr("content"))
		for _, f := range []string{"X-Hop", "Keep-Alive"} {
			if v, ok := r.header[f]; ok {
				t.Errorf("%s: hit carries %s: %q", m, f, v)
			}
		}
		if got := r.header.Get("X-End"); got != "end to end" {
			t.Errorf("%s: X-End %q", m, got)
		}
		if strings.Contains(r.header.Get("Connection"), "X-Hop") {
			t.Errorf("%s: Connection %q", m, r.header.Get("Connection"))
		}
	}
}
