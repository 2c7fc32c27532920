package audit

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/precond"
	"github.com/notmod/notmod/proxy"
	"github.com/notmod/notmod/static"
	"github.com/notmod/notmod/store/memory"
)

// cached starts origin on a test server and returns the shared cache in
// front of it, on the given clock.
func cached(t *testing.T, origin http.Handler, now func() time.Time) http.Handler {
	t.Helper()
	srv := httptest.NewServer(origin)
	t.Cleanup(srv.Close)
	st, err := memory.New(memory.Options{Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := httpcache.New(httpcache.Options{Store: st, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	p, err := proxy.New(proxy.Options{Origin: u, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCleanReport audits correct origins: none may get a MUST or SHOULD
// finding (RFC 9110 §8.8, §13, §15.4.5; RFC 9111).
func TestCleanReport(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(testContent), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := static.New(dir, static.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	distinct := func(t precond.ETag) precond.ETag { return t[:len(t)-1] + `-gz"` }

	tests := map[string]struct {
		h    func(t *testing.T) http.Handler
		want []string // OK findings that must be there
	}{
		// The precond middleware over a handler with both validators.
		"precond_middleware": {
			h: func(*testing.T) http.Handler { return origin() },
			want: []string{"etag-strong", "last-modified-valid", "etag-stable", "head-matches-get",
				"inm-exact-matched", "inm-weak-matched", "inm-list-matched", "inm-other-full", "inm-star-matched",
				"ims-exact-matched", "ims-earlier-full", "ims-future-matched", "ims-invalid-ignored", "ims-ignored-with-inm",
				"304-fields-kept", "304-no-content", "if-match-current-ok", "if-match-failed-412", "ius-failed-412", "ius-current-ok",
				"range-supported", "if-range-match-partial", "if-range-other-full", "if-range-weak-full"},
		},
		// The middleware making the tag itself, with no Last-Modified.
		"precond_etag_only": {
			h: func(*testing.T) http.Handler {
				return precond.Middleware(page(pageOptions{etag: "-", lastModified: "-"}))
			},
			want: []string{"etag-strong", "inm-exact-matched", "304-no-content", "if-match-failed-412"},
		},
		// A weak tag: If-Match and If-Range never match it (§13.1.1, §13.1.5).
		"precond_weak_etag": {
			h:    func(*testing.T) http.Handler { return precond.Middleware(page(pageOptions{etag: `W/"w1"`})) },
			want: []string{"etag-weak", "inm-weak-matched", "if-match-weak-refused", "if-range-weak-full"},
		},
		// notmod static: content-hash tags, file modification times.
		"static": {
			h:    func(*testing.T) http.Handler { return precond.Middleware(files) },
			want: []string{"etag-strong", "ims-exact-matched", "304-no-content", "if-range-match-partial", "ius-failed-412"},
		},
		// gzip with its own tag and Vary (§8.8.3.3).
		"gzip_distinct_tags": {
			h:    func(*testing.T) http.Handler { return gzipped(origin(), distinct, true) },
			want: []string{"coding-etag-distinct", "vary-accept-encoding"},
		},
		// The shared cache in front of the origin answers the conditional
		// requests itself and forwards If-Match (RFC 9111 §4.3.2).
		"through_notmod_cache": {
			h: func(t *testing.T) http.Handler {
				return cached(t, origin(), func() time.Time { return testDate.Add(5 * time.Second) })
			},
			want: []string{"inm-list-matched", "ims-ignored-with-inm", "304-no-content", "if-match-failed-412", "if-range-weak-full"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			rep := audit(t, tt.h(t), Options{})
			if got := ids(rep, Must, Should); len(got) > 0 {
				t.Errorf("must/should findings:%s", summary(rep))
			}
			if rep.Failed() {
				t.Error("report failed")
			}
			for _, id := range tt.want {
				if f := rep.Find(id); f == nil || f.Verdict != OK {
					t.Errorf("no OK finding %s; have %v", id, ids(rep, OK))
				}
			}
		})
	}
}
