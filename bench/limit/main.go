package main

import (
	"flag"
	"log"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/notmod/notmod/bench/internal/fixture"
	"github.com/notmod/notmod/internal/httplex"
	"github.com/notmod/notmod/precond"
)

// object is one fixture object with its field values prepared once and
// shared read-only by every response.
type object struct {
	etag          precond.ETag
	body          []byte
	etagV         []string
	lastModifiedV []string
	lengthV       []string
	cacheControlV []string
	contentTypeV  []string
	acceptRangesV []string
}

func newObject(f fixture.Object) *object {
	return &object{
		etag:          f.ETag,
		body:          f.Body,
		etagV:         []string{string(f.ETag)},
		lastModifiedV: []string{fixture.LastModified()},
		lengthV:       []string{strconv.Itoa(len(f.Body))},
		cacheControlV: []string{fixture.CacheControl},
		contentTypeV:  []string{fixture.ContentType},
		acceptRangesV: []string{"bytes"},
	}
}

// notModified reports whether the If-None-Match field lines inm match o:
// "*" or a listed entity tag that matches o's by the weak comparison
// (RFC 9110 §13.1.2, §8.8.3.2).
func (o *object) notModified(inm []string) bool {
	for e := range httplex.ElementsOf(inm) {
		if e == "*" {
			return true
		}
		if t, ok := precond.ParseETag(e); ok && t.WeakMatch(o.etag) {
			return true
		}
	}
	return false
}

func (o *object) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Etag"] = o.etagV
	h["Cache-Control"] = o.cacheControlV
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if inm := r.Header["If-None-Match"]; len(inm) > 0 && o.notModified(inm) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h["Last-Modified"] = o.lastModifiedV
	h["Content-Type"] = o.contentTypeV
	h["Content-Length"] = o.lengthV
	h["Accept-Ranges"] = o.acceptRangesV
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(o.body)
}

// newHandler returns the handler serving every [fixture.Objects] path.
func newHandler() http.Handler {
	objs := map[string]*object{}
	for _, f := range fixture.Objects() {
		objs[f.Path] = newObject(f)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := objs[r.URL.Path]; o != nil {
			o.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:19101", "listen address")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           newHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Printf("limit listening on %s (GOMAXPROCS=%d)", *addr, runtime.GOMAXPROCS(0))
	log.Fatal(srv.ListenAndServe())
}
