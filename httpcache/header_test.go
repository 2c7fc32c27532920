package httpcache

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// storedFields returns the fields of h a cache with options o stores
// (§3.1), as the header a stored entry gives back.
func storedFields(t *testing.T, o Options, h http.Header) http.Header {
	t.Helper()
	c, _ := newTestCache(t, o)
	cc := c.responseDirectives(h)
	e := entry{header: headerBlock(nil, h, c.storedFieldFilter(h, cc))}
	return e.headerOf()
}

func TestStoredFields(t *testing.T) {
	base := []string{"Content-Type", "text/plain", "Etag", `"a"`, "X-Custom", "1"}
	type tc struct {
		opts Options
		resp []string // added to base
		want []string // names stored besides those of base and Cache-Control
		gone []string // names that must not be stored
	}
	tests := map[string]tc{
		// §3.1: all received fields, including unrecognised ones.
		"all fields": {resp: []string{"Cache-Control", "max-age=60", "X-Unknown", "y"}, want: []string{"X-Unknown"}},
		// §3.1, RFC 9110 §7.6.1: hop-by-hop fields are not stored.
		"hop-by-hop": {
			resp: []string{
				"Cache-Control", "max-age=60", "Connection", "close", "Keep-Alive", "timeout=5",
				"Proxy-Connection", "keep-alive", "Te", "trailers", "Trailer", "X-Sum",
				"Transfer-Encoding", "chunked", "Upgrade", "h2c",
			},
			gone: []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"},
		},
		// §3.1, RFC 9110 §7.6.1: fields listed in Connection are not stored.
		"Connection-listed": {
			resp: []string{"Cache-Control", "max-age=60", "Connection", "x-hop, X-Other", "Connection", "x-third", "X-Hop", "1", "X-Other", "2", "X-Third", "3"},
			gone: []string{"Connection", "X-Hop", "X-Other", "X-Third"},
		},
		// §3.1: fields specific to the proxy.
		"proxy authentication": {
			resp: []string{"Cache-Control", "max-age=60", "Proxy-Authenticate", "Basic", "Proxy-Authentication-Info", "x", "Proxy-Authorization", "y"},
			gone: []string{"Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization"},
		},
		// §4.2.3: Age is recomputed on every use.
		"Age": {resp: []string{"Cache-Control", "max-age=60", "Age", "10"}, gone: []string{"Age"}},
		// §3.1, §5.2.2.4: qualified no-cache fields, by every cache.
		"no-cache fields": {
			resp: []string{"Cache-Control", `no-cache="x-secret, Set-Cookie2", max-age=60`, "X-Secret", "s", "Set-Cookie2", "c"},
			gone: []string{"X-Secret", "Set-Cookie2"},
		},
		"no-cache fields in a private cache": {
			opts: Options{Private: true},
			resp: []string{"Cache-Control", `no-cache="X-Secret", max-age=60`, "X-Secret", "s"},
			gone: []string{"X-Secret"},
		},
		// §3.1, §5.2.2.7: qualified private fields, by a shared cache.
		"private fields": {
			resp: []string{"Cache-Control", `private="X-User", max-age=60`, "X-User", "alice"},
			gone: []string{"X-User"},
		},
		"private fields in a private cache": {
			opts: Options{Private: true},
			resp: []string{"Cache-Control", `private="X-User", max-age=60`, "X-User", "alice"},
			want: []string{"X-User"},
		},
		// Set-Cookie is stripped when configured, by a shared cache.
		"Set-Cookie stripped": {
			opts: Options{StripSetCookie: true},
			resp: []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"},
			gone: []string{"Set-Cookie"},
		},
		"Set-Cookie in a private cache": {
			opts: Options{Private: true, StripSetCookie: true},
			resp: []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"},
			want: []string{"Set-Cookie"},
		},
		// Values that could end a field line are never stored.
		"CR LF in a value": {
			resp: []string{"Cache-Control", "max-age=60", "X-Smuggle", "a\r\nX-Evil: 1", "X-Nul", "a\x00b"},
			gone: []string{"X-Smuggle", "X-Evil", "X-Nul"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := header(append(slices.Clone(base), tt.resp...)...)
			got := storedFields(t, tt.opts, h)
			for _, n := range append([]string{"Content-Type", "Etag", "X-Custom", "Cache-Control"}, tt.want...) {
				if !slices.Equal(got[n], h[n]) {
					t.Errorf("%s stored as %q, want %q", n, got[n], h[n])
				}
			}
			for _, n := range tt.gone {
				if v, ok := got[n]; ok {
					t.Errorf("%s stored as %q, want it left out", n, v)
				}
			}
		})
	}
}

// TestHeaderBlockOrder checks that fields are stored sorted by name, with
// the order of the lines of each field kept (RFC 9110 §5.3).
func TestHeaderBlockOrder(t *testing.T) {
	h := header("Vary", "Accept", "B", "2", "A", "1", "Vary", "Origin", "Cache-Control", "max-age=60")
	got := string(headerBlock(nil, h, nil))
	want := "A: 1\r\nB: 2\r\nCache-Control: max-age=60\r\nVary: Accept\r\nVary: Origin\r\n"
	if got != want {
		t.Errorf("headerBlock = %q, want %q", got, want)
	}
}

func TestMerge(t *testing.T) {
	stored := func() http.Header {
		return header(
			"Cache-Control", "max-age=10",
			"Content-Encoding", "gzip",
			"Content-Length", "5",
			"Content-Md5", "Q2hlY2sgSW50ZWdyaXR5IQ==",
			"Content-Range", "bytes 0-4/5",
			"Content-Type", "text/plain",
			"Date", httpDate(t0),
			"Etag", `"v1"`,
			"Expires", httpDate(t0.Add(10*time.Second)),
			"X-Kept", "old",
			"X-Replaced", "old",
		)
	}
	tests := map[string]struct {
		opts Options
		resp []string // fields of the 304
		want http.Header
	}{
		// §3.2: fields of the 304 replace those stored.
		"replace and add": {
			resp: []string{
				"Cache-Control", "max-age=60", "Date", httpDate(t0.Add(5 * time.Second)), "Expires", httpDate(t0.Add(65 * time.Second)),
				"X-Replaced", "new", "X-Replaced", "newer", "X-Added", "1", "Content-Type", "text/html",
			},
			want: header(
				"Cache-Control", "max-age=60", "Date", httpDate(t0.Add(5*time.Second)), "Expires", httpDate(t0.Add(65*time.Second)),
				"X-Replaced", "new", "X-Replaced", "newer", "X-Added", "1", "Content-Type", "text/html",
			),
		},
		// §3.2: Content-Length is never updated; Content-Range is
		// processed by the recipient; Content-Encoding, Content-MD5 and
		// ETag describe the stored content.
		"fields the stored content depends on": {
			resp: []string{
				"Content-Length", "0", "Content-Encoding", "br", "Content-Md5", "other",
				"Content-Range", "bytes */5", "Etag", `"v2"`,
			},
		},
		// §3.2, §3.1: fields excepted from storage are not merged.
		"hop-by-hop and Connection-listed": {
			resp: []string{
				"Connection", "X-Hop", "X-Hop", "1", "Keep-Alive", "timeout=5",
				"Transfer-Encoding", "chunked", "Proxy-Authenticate", "Basic", "Age", "7",
			},
		},
		// §3.2, §5.2.2.4: a qualified no-cache in the 304 keeps the
		// listed field out.
		"no-cache fields": {
			resp: []string{"Cache-Control", `no-cache="X-Secret"`, "X-Secret", "s"},
			want: header("Cache-Control", `no-cache="X-Secret"`),
		},
		// §3.2, §5.2.2.7: so does a qualified private in a shared cache.
		"private fields": {
			resp: []string{"Cache-Control", `private="X-User", max-age=60`, "X-User", "alice"},
			want: header("Cache-Control", `private="X-User", max-age=60`),
		},
		"private fields in a private cache": {
			opts: Options{Private: true},
			resp: []string{"Cache-Control", `private="X-User", max-age=60`, "X-User", "alice"},
			want: header("Cache-Control", `private="X-User", max-age=60`, "X-User", "alice"),
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCache(t, tt.opts)
			want := stored()
			maps.Copy(want, tt.want)
			got := c.merge(stored(), header(tt.resp...))
			for _, n := range slices.Sorted(maps.Keys(want)) {
				if !slices.Equal(got[n], want[n]) {
					t.Errorf("%s = %q, want %q", n, got[n], want[n])
				}
			}
			for n, v := range got {
				if _, ok := want[n]; !ok {
					t.Errorf("%s = %q, want it absent", n, v)
				}
			}
		})
	}
}

// TestNotUpdated checks the names merge compares against, which must be
// in canonical form to match the keys of an http.Header.
func TestNotUpdated(t *testing.T) {
	for _, n := range []string{"Content-Length", "Content-Range", "Content-Encoding", "Content-MD5", "ETag"} {
		if !notUpdated(http.CanonicalHeaderKey(n)) {
			t.Errorf("notUpdated(%q) = false", http.CanonicalHeaderKey(n))
		}
	}
	for _, n := range []string{"Content-Type", "Cache-Control", "Last-Modified", "Expires", "Date", "Vary"} {
		if notUpdated(n) {
			t.Errorf("notUpdated(%q) = true", n)
		}
	}
	// Every hop-by-hop name is canonical too.
	for n := range hopByHop {
		if n != http.CanonicalHeaderKey(n) {
			t.Errorf("hopByHop has %q, not canonical", n)
		}
	}
}

// TestRevalidatedHeader checks a 304 from the origin end to end: the
// stored response's fields are updated (§3.2, §4.3.4) and its content
// kept.
func TestRevalidatedHeader(t *testing.T) {
	c, clock := newTestCache(t, Options{})
	req := newRequest(http.MethodGet, "/r")
	storeResponse(t, c, req, header(
		"Cache-Control", "max-age=10", "Etag", `"v1"`, "Content-Type", "text/plain",
		"Content-Encoding", "identity", "X-Version", "1",
	), "hello")
	clock.Advance(20 * time.Second)
	got, body, cs := exchange(t, c, newRequest(http.MethodGet, "/r"), func(out *http.Request) *http.Response {
		if inm := out.Header.Get("If-None-Match"); inm != `"v1"` {
			t.Errorf("If-None-Match sent = %q, want %q", inm, `"v1"`)
		}
		return newResponse(out, http.StatusNotModified, header(
			"Cache-Control", "max-age=100", "Date", httpDate(clock.Now()), "Etag", `"v1"`,
			"X-Version", "2", "Content-Encoding", "gzip", "Connection", "X-Hop", "X-Hop", "1",
		), "")
	})
	if got.StatusCode != http.StatusOK || body != "hello" {
		t.Errorf("answer = %d %q, want 200 %q", got.StatusCode, body, "hello")
	}
	if want := "notmod; fwd=stale; fwd-status=304; stored; ttl=100"; cs != want {
		t.Errorf("Cache-Status = %q, want %q", cs, want)
	}
	l := c.Lookup(newRequest(http.MethodGet, "/r"))
	defer l.Release()
	if l.Decision != Serve {
		t.Fatalf("after the 304: Lookup = %v, want serve", l.Decision)
	}
	h := http.Header{}
	code, content := l.Reply()
	l.Fields(code, func(n, v string) bool { h[n] = append(h[n], v); return true })
	if code != http.StatusOK || string(content) != "hello" {
		t.Errorf("Reply = %d %q, want 200 hello", code, content)
	}
	for n, want := range map[string]string{
		"Cache-Control": "max-age=100", "X-Version": "2", "Content-Encoding": "identity",
		"Content-Type": "text/plain", "Etag": `"v1"`, "X-Hop": "",
	} {
		if got := strings.Join(h[n], ", "); got != want {
			t.Errorf("stored %s = %q, want %q", n, got, want)
		}
	}
}
