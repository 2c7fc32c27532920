package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/notmod/notmod/bench/internal/fixture"
)

// counted is one object with the number of 200 and 304 responses sent for it.
type counted struct {
	fixture.Object
	ok, notModified atomic.Int64
}

// origin serves the fixture objects and counts every request it receives.
// It is safe for concurrent use.
type origin struct {
	objs  []*counted
	total atomic.Int64 // every request but /_stats
	other atomic.Int64 // requests for unknown paths
	mux   *http.ServeMux
}

// newOrigin returns an origin serving [fixture.Objects].
func newOrigin() *origin {
	o := &origin{mux: http.NewServeMux()}
	for _, f := range fixture.Objects() {
		c := &counted{Object: f}
		o.objs = append(o.objs, c)
		o.mux.Handle(f.Path, o.object(c))
	}
	o.mux.HandleFunc("/_stats", o.stats)
	o.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		o.total.Add(1)
		o.other.Add(1)
		http.NotFound(w, r)
	})
	return o
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) { o.mux.ServeHTTP(w, r) }

// object returns the handler of one object: ServeContent writes the 200,
// 206, 304 or 412 that the request's preconditions call for.
func (o *origin) object(c *counted) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.total.Add(1)
		h := w.Header()
		h.Set("ETag", string(c.ETag))
		h.Set("Cache-Control", fixture.CacheControl)
		h.Set("Content-Type", fixture.ContentType)
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		http.ServeContent(rec, r, "", fixture.Modified(), bytes.NewReader(c.Body))
		if rec.code == http.StatusNotModified {
			c.notModified.Add(1)
		} else {
			c.ok.Add(1)
		}
	})
}

// stats is the shape of the /_stats response.
type stats struct {
	Total int64                `json:"total"`
	Other int64                `json:"other"`
	Paths map[string]pathStats `json:"paths"`
}

// pathStats counts the responses sent for one path.
type pathStats struct {
	OK          int64 `json:"200"`
	NotModified int64 `json:"304"`
}

// stats writes the counters as JSON; it is not counted itself.
func (o *origin) stats(w http.ResponseWriter, _ *http.Request) {
	s := stats{Total: o.total.Load(), Other: o.other.Load(), Paths: map[string]pathStats{}}
	for _, c := range o.objs {
		s.Paths[c.Path] = pathStats{OK: c.ok.Load(), NotModified: c.notModified.Load()}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(s)
}

// statusRecorder notes the status code a handler chose.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func main() {
	addr := flag.String("addr", "127.0.0.1:19100", "listen address")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           newOrigin(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Printf("origin listening on %s (GOMAXPROCS=%d)", *addr, runtime.GOMAXPROCS(0))
	log.Fatal(srv.ListenAndServe())
}
