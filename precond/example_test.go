package precond_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/notmod/notmod/precond"
)

// The middleware gives a handler that sets no validator a strong ETag made
// from its content, and answers If-None-Match with a 304.
func ExampleMiddleware() {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "<h1>hello</h1>")
	})
	srv := httptest.NewServer(precond.Middleware(page))
	defer srv.Close()

	resp, _ := http.Get(srv.URL)
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	fmt.Println(resp.StatusCode, etag)

	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("If-None-Match", etag)
	resp, _ = http.DefaultClient.Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Cache-Control"), len(body))
	// Output:
	// 200 "7f5d8048c122527d"
	// 304 max-age=60 0
}

// A handler that knows its validators cheaply answers a conditional
// request before it renders anything.
func ExampleCheck() {
	updated := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	article := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if precond.Check(w, r, precond.Validators{ETag: `"rev-42"`, LastModified: updated}) {
			return // 304 or 412 already written; nothing rendered
		}
		io.WriteString(w, "an expensive page")
	})

	req := httptest.NewRequest("GET", "/article", nil)
	req.Header.Set("If-None-Match", `"rev-41", "rev-42"`)
	rec := httptest.NewRecorder()
	article.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("ETag"), rec.Body.Len())

	req = httptest.NewRequest("PUT", "/article", nil)
	req.Header.Set("If-Match", `"rev-41"`)
	rec = httptest.NewRecorder()
	article.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// 304 "rev-42" 0
	// 412
}
