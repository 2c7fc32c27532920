package httpcache

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

func TestPurge(t *testing.T) {
	type stored struct {
		target string
		fields []string
		req    []string
	}
	all := []stored{
		{"/a", []string{"Cache-Control", "max-age=60", "Surrogate-Key", "red blue", "Etag", `"a"`}, nil},
		{"/a/b", []string{"Cache-Control", "max-age=60", "Cache-Tag", "blue, green"}, nil},
		{"/c", []string{"Cache-Control", "max-age=60", "Surrogate-Key", "reddish"}, nil},
		{"/v", []string{"Cache-Control", "max-age=60", "Vary", "Accept-Language", "Surrogate-Key", "red"}, []string{"Accept-Language", "en"}},
		{"/v", []string{"Cache-Control", "max-age=60", "Vary", "Accept-Language", "Surrogate-Key", "red"}, []string{"Accept-Language", "fr"}},
	}
	tests := map[string]struct {
		purge   func(c *Cache) (int, error)
		n       int
		purged  []string // targets (with first stored request) no longer fresh
		fresh   []string
		soft    bool
		variant bool // /v is purged in both languages
	}{
		"url": {
			purge: func(c *Cache) (int, error) {
				return c.PurgeURL(context.Background(), mustURL("http://example.com/a"), HardPurge)
			},
			n: 1, purged: []string{"/a"}, fresh: []string{"/a/b", "/c"},
		},
		"url every variant": {
			purge: func(c *Cache) (int, error) {
				return c.PurgeURL(context.Background(), mustURL("http://example.com/v"), HardPurge)
			},
			n: 2, fresh: []string{"/a"}, variant: true,
		},
		"prefix": {
			purge: func(c *Cache) (int, error) {
				return c.PurgePrefix(context.Background(), mustURL("http://example.com/"), "/a", HardPurge)
			},
			n: 2, purged: []string{"/a", "/a/b"}, fresh: []string{"/c"},
		},
		// Surrogate keys match exactly: "red" does not purge "reddish".
		"tag": {
			purge: func(c *Cache) (int, error) { return c.PurgeTag(context.Background(), "red", HardPurge) },
			n:     3, purged: []string{"/a"}, fresh: []string{"/a/b", "/c"}, variant: true,
		},
		"cache-tag": {
			purge: func(c *Cache) (int, error) { return c.PurgeTag(context.Background(), "green", HardPurge) },
			n:     1, purged: []string{"/a/b"}, fresh: []string{"/a", "/c"},
		},
		"no such tag": {
			purge: func(c *Cache) (int, error) { return c.PurgeTag(context.Background(), "r.d", HardPurge) },
			n:     0, fresh: []string{"/a", "/a/b", "/c"},
		},
		// A soft purge keeps the response but makes it stale: the next
		// request validates it with its ETag (RFC 9111 §4.3.1).
		"soft": {
			purge: func(c *Cache) (int, error) {
				return c.PurgeURL(context.Background(), mustURL("http://example.com/a"), SoftPurge)
			},
			n: 1, purged: []string{"/a"}, fresh: []string{"/c"}, soft: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCache(t, Options{})
			for _, s := range all {
				storeResponse(t, c, newRequest(http.MethodGet, s.target, s.req...), header(s.fields...), "body of "+s.target)
			}
			n, err := tc.purge(c)
			if err != nil || n != tc.n {
				t.Fatalf("purge = %d, %v; want %d", n, err, tc.n)
			}
			for _, target := range tc.purged {
				l := c.Lookup(newRequest(http.MethodGet, target))
				if l.Decision != Forward {
					t.Errorf("%s after purge: %v, want forward", target, l.Decision)
				}
				if tc.soft && (!l.found || !l.validate || l.Status.Fwd != FwdStale) {
					t.Errorf("%s after soft purge: found %v validate %v fwd %v", target, l.found, l.validate, l.Status.Fwd)
				}
				if !tc.soft && l.found {
					t.Errorf("%s still stored after hard purge", target)
				}
				l.Release()
			}
			for _, target := range tc.fresh {
				l := c.Lookup(newRequest(http.MethodGet, target))
				if l.Decision != Serve {
					t.Errorf("%s: %v, want serve", target, l.Decision)
				}
				l.Release()
			}
			for _, lang := range []string{"en", "fr"} {
				l := c.Lookup(newRequest(http.MethodGet, "/v", "Accept-Language", lang))
				if got := l.Decision == Serve; got == tc.variant {
					t.Errorf("/v %s served = %v after purge", lang, got)
				}
				l.Release()
			}
		})
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
