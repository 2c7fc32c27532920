package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/store/memory"
)

// discardWriter isolates the proxy's own work on a hit from the server's.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkServeHit measures a fresh hit and a 304 from cache through the
// proxy's handler, in-process: go test -bench ServeHit -benchmem ./proxy
func BenchmarkServeHit(b *testing.B) {
	body := strings.Repeat("x", 1024)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Etag", `"abc"`)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
		io.WriteString(w, body)
	}))
	defer origin.Close()
	u, _ := url.Parse(origin.URL)
	c := httpcache.Must(httpcache.Options{Store: memory.Must(memory.Options{})})
	p, err := New(Options{Origin: u, Cache: c})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, inm string }{{"200", ""}, {"304", `"abc"`}} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/1k", nil)
			req.RequestURI = "/1k"
			if tc.inm != "" {
				req.Header.Set("If-None-Match", tc.inm)
			}
			w := &discardWriter{h: http.Header{}}
			p.ServeHTTP(w, httptest.NewRequest("GET", "/1k", nil)) // store it
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				p.ServeHTTP(w, req)
			}
			if !strings.Contains(w.h.Get("Cache-Status"), "hit") {
				b.Fatalf("not a hit: %v", w.h)
			}
		})
	}
}
