package precond

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is the cheapest ResponseWriter: it isolates the
// middleware's own cost from the server's.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchBody(size int) []byte { return bytes.Repeat([]byte("a"), size) }

func benchHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"text/plain"}
		h["Cache-Control"] = []string{"max-age=60"}
		w.Write(body)
	})
}

// BenchmarkHandler measures the middleware against the bare handler
// in-process, with a writer that discards: the middleware's own cost.
func BenchmarkHandler(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"100KiB", 100 << 10}} {
		body := benchBody(size.n)
		bare := benchHandler(body)
		wrapped := Middleware(bare)
		etag := string(ContentETag(body))
		run := func(name string, h http.Handler, inm string) {
			b.Run(size.name+"/"+name, func(b *testing.B) {
				req := httptest.NewRequest("GET", "/", nil)
				if inm != "" {
					req.Header.Set("If-None-Match", inm)
				}
				w := &discardWriter{h: http.Header{}}
				b.ReportAllocs()
				b.SetBytes(int64(size.n))
				for b.Loop() {
					clear(w.h)
					h.ServeHTTP(w, req)
				}
			})
		}
		run("bare", bare, "")
		run("middleware-200", wrapped, "")
		run("middleware-304", wrapped, etag)
	}
}

// BenchmarkServer measures full requests over loopback to an httptest
// server, with a keep-alive client: the bare handler, the middleware's
// 200 and the middleware's 304. Compare ratios within one run.
func BenchmarkServer(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"100KiB", 100 << 10}} {
		body := benchBody(size.n)
		etag := string(ContentETag(body))
		for _, c := range []struct {
			name string
			h    http.Handler
			inm  string
		}{
			{"bare", benchHandler(body), ""},
			{"middleware-200", Middleware(benchHandler(body)), ""},
			{"middleware-304", Middleware(benchHandler(body)), etag},
		} {
			b.Run(size.name+"/"+c.name, func(b *testing.B) {
				srv := httptest.NewServer(c.h)
				defer srv.Close()
				client := srv.Client()
				req, _ := http.NewRequest("GET", srv.URL, nil)
				if c.inm != "" {
					req.Header.Set("If-None-Match", c.inm)
				}
				b.ReportAllocs()
				for b.Loop() {
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
	}
}
