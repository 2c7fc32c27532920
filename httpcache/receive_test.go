package httpcache

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestUnsafeInvalidates checks that a non-error response to an unsafe
// method invalidates the target URI and the same-origin Location and
// Content-Location (RFC 9111 §4.4).
func TestUnsafeInvalidates(t *testing.T) {
	tests := map[string]struct {
		method string
		status int
		resp   []string
		gone   []string // paths no longer stored
		kept   []string // paths still stored
	}{
		// §4.4: the target URI.
		"POST": {method: http.MethodPost, status: 200, gone: []string{"/a"}, kept: []string{"/b", "/c"}},
		"PUT":  {method: http.MethodPut, status: 204, gone: []string{"/a"}, kept: []string{"/b"}},
		// §4.4: and the same-origin Location and Content-Location.
		"Location": {
			method: http.MethodPost, status: 201,
			resp: []string{"Location", "/b", "Content-Location", "http://example.com/c"},
			gone: []string{"/a", "/b", "/c"},
		},
		// §4.4: not those of another origin.
		"other origin": {
			method: http.MethodDelete, status: 200,
			resp: []string{"Location", "http://other.example/b"},
			gone: []string{"/a"}, kept: []string{"/b"},
		},
		// §4.4: an error response invalidates nothing.
		"error": {method: http.MethodPost, status: 500, kept: []string{"/a"}},
		// §4.4: nor does a safe method.
		"OPTIONS": {method: http.MethodOptions, status: 200, kept: []string{"/a"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCache(t, Options{})
			for _, p := range []string{"/a", "/b", "/c"} {
				storeResponse(t, c, newRequest(http.MethodGet, p), header("Cache-Control", "max-age=60"), "x")
			}
			exchange(t, c, newRequest(tt.method, "/a"), func(out *http.Request) *http.Response {
				return newResponse(out, tt.status, header(tt.resp...), "")
			})
			for _, p := range tt.gone {
				if d := lookupDecision(c, p); d != Forward {
					t.Errorf("%s: %v, want forward (invalidated)", p, d)
				}
			}
			for _, p := range tt.kept {
				if d := lookupDecision(c, p); d != Serve {
					t.Errorf("%s: %v, want serve (kept)", p, d)
				}
			}
		})
	}
}

func lookupDecision(c *Cache, path string) Decision {
	l := c.Lookup(newRequest(http.MethodGet, path))
	defer l.Release()
	return l.Decision
}

// TestCollapsed checks request collapsing (RFC 9111 §4, RFC 9211 §2.6):
// a second request for a URL being fetched waits, then is served what the
// first stored.
func TestCollapsed(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	first := c.Lookup(newRequest(http.MethodGet, "/a"))
	second := c.Lookup(newRequest(http.MethodGet, "/a"))
	if first.Decision != Forward || second.Decision != Wait {
		t.Fatalf("decisions = %v, %v; want forward, wait", first.Decision, second.Decision)
	}
	// HEAD is not collapsed.
	head := c.Lookup(newRequest(http.MethodHead, "/a"))
	if head.Decision != Forward {
		t.Errorf("HEAD decision = %v, want forward", head.Decision)
	}
	head.Release()

	resp, err := first.Receive(newResponse(nil, 200, header("Cache-Control", "max-age=60", "Date", httpDate(t0)), "hello"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	first.Release()
	if err := second.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	again := second.Retry()
	defer again.Release()
	if again.Decision != Serve {
		t.Fatalf("Retry = %v, want serve", again.Decision)
	}
	if got, want := string(again.AppendCacheStatus(nil)), "notmod; fwd=uri-miss; collapsed; ttl=60"; got != want {
		t.Errorf("Cache-Status = %q, want %q", got, want)
	}
}

// TestIncompleteNotStored checks that content shorter than its
// Content-Length is not stored (RFC 9111 §3.3).
func TestIncompleteNotStored(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	req := newRequest(http.MethodGet, "/a")
	exchange(t, c, req, func(out *http.Request) *http.Response {
		r := newResponse(out, 200, header("Cache-Control", "max-age=60"), "hel")
		r.ContentLength = 5
		return r
	})
	if d := lookupDecision(c, "/a"); d != Forward {
		t.Errorf("after an incomplete response: %v, want forward", d)
	}
}

// TestDeclaredLength checks that content is stored only when it is as
// long as its Content-Length says (RFC 9111 §3.3, RFC 9112 §6.3), and
// never when the declared length or the content is past MaxObjectSize,
// whatever the length says; the client gets what the origin sent either
// way.
func TestDeclaredLength(t *testing.T) {
	const limit = 64 << 10
	content := bytes.Repeat([]byte("0123456789abcdef"), limit/16)
	cases := map[string]struct {
		content  []byte
		declared int64
		stored   bool
	}{
		"as declared":            {content: content[:1000], declared: 1000, stored: true},
		"the limit, as declared": {content: content, declared: limit, stored: true},
		"empty, as declared":     {content: nil, declared: 0, stored: true},
		"undeclared":             {content: content[:1000], declared: -1, stored: true},
		// §3.3: fewer bytes than declared.
		"short of the declared length": {content: content[:1000], declared: 5000},
		// More bytes than declared: the buffer sized from the declared
		// length grows, and the content is not stored.
		"past the declared length": {content: content[:5000], declared: 1000},
		// A declared length past the limit is not trusted to be room
		// for anything: the response is not stored.
		"declared past the limit":       {content: content[:1000], declared: 1 << 40},
		"content past the limit":        {content: append(content, 'x'), declared: limit},
		"undeclared, past the limit":    {content: append(content, 'x'), declared: -1},
		"declared past the limit, more": {content: append(content, 'x'), declared: limit + 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCache(t, Options{MaxObjectSize: limit})
			_, got, _ := exchange(t, c, newRequest(http.MethodGet, "/a"), func(out *http.Request) *http.Response {
				r := newResponse(out, 200, header("Cache-Control", "max-age=60", "Date", httpDate(t0)), string(tc.content))
				r.ContentLength = tc.declared
				return r
			})
			if got != string(tc.content) {
				t.Fatalf("the client got %d bytes, want the %d the origin sent", len(got), len(tc.content))
			}
			l := c.Lookup(newRequest(http.MethodGet, "/a"))
			defer l.Release()
			if !tc.stored {
				if l.Decision != Forward {
					t.Fatalf("stored: %v, want forward", l.Decision)
				}
				return
			}
			if l.Decision != Serve {
				t.Fatalf("not stored: %v", l.Decision)
			}
			if _, body := l.Reply(); !bytes.Equal(body, tc.content) {
				t.Fatalf("stored %d bytes that differ from the %d sent", len(body), len(tc.content))
			}
		})
	}
}
