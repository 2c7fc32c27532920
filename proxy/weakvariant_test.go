package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Express + compression: one weak ETag for the gzip and identity codings.
func TestRegressionWeakETagCrossVariant(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("Vary", "Accept-Encoding")
		w.Header().Set("Etag", `W/"5-abc"`)
		if strings.Contains(r.Header.Get("If-None-Match"), `W/"5-abc"`) {
			w.WriteHeader(304)
			return
		}
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			io.WriteString(w, "\x1f\x8bGZIPPED")
			return
		}
		io.WriteString(w, "hello")
	}, envOptions{})
	e.do(t, "GET", "/w", "Accept-Encoding", "gzip")
	e.clock.Advance(time.Second)
	r := e.do(t, "GET", "/w") // no Accept-Encoding
	t.Logf("%q CE=%q body=%q seen INM=%q", r.status(), r.header.Get("Content-Encoding"), r.body, e.lastSeen(t).Header.Get("If-None-Match"))
	if r.header.Get("Content-Encoding") == "gzip" {
		t.Errorf("gzip variant served to a client that sent no Accept-Encoding")
	}
}
