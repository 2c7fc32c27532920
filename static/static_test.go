package static

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notmod/notmod/precond"
)

func get(t *testing.T, method, url string, fields ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Set(fields[i], fields[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestStatic(t *testing.T) {
	dir := t.TempDir()
	page := "<h1>hello</h1>"
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "a.txt"), []byte("0123456789"), 0o644)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("secret"), 0o644)
	os.Symlink(secret, filepath.Join(dir, "link"))

	h, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(precond.Middleware(h))
	defer srv.Close()

	wantTag := string(precond.ContentETag([]byte(page)))
	for _, method := range []string{"GET", "HEAD"} {
		resp, body := get(t, method, srv.URL+"/")
		if resp.StatusCode != 200 || resp.Header.Get("Etag") != wantTag || resp.Header.Get("Last-Modified") == "" {
			t.Fatalf("%s /: %d %v", method, resp.StatusCode, resp.Header)
		}
		if method == "GET" && body != page {
			t.Fatalf("body %q", body)
		}
		if resp.ContentLength != int64(len(page)) || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%s /: length %d type %q", method, resp.ContentLength, resp.Header.Get("Content-Type"))
		}
		// RFC 9110 §13.1.2: the content tag answers If-None-Match.
		resp, body = get(t, method, srv.URL+"/index.html", "If-None-Match", `"x", `+wantTag)
		if resp.StatusCode != 304 || body != "" || resp.Header.Get("Etag") != wantTag || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%s If-None-Match: %d %v", method, resp.StatusCode, resp.Header)
		}
		// §13.1.3: the seed's date in 2050.
		resp, _ = get(t, method, srv.URL+"/", "If-Modified-Since", "Tue, 21 Nov 2050 08:00:00 GMT")
		if resp.StatusCode != 304 {
			t.Fatalf("%s If-Modified-Since: %d", method, resp.StatusCode)
		}
		// §13.1.1: a failed If-Match is 412.
		resp, _ = get(t, method, srv.URL+"/", "If-Match", `"other"`)
		if resp.StatusCode != 412 {
			t.Fatalf("%s If-Match: %d", method, resp.StatusCode)
		}
	}
	// §14.2: a range of a file.
	resp, body := get(t, "GET", srv.URL+"/sub/a.txt", "Range", "bytes=2-4")
	if resp.StatusCode != 206 || body != "234" || resp.Header.Get("Content-Range") != "bytes 2-4/10" {
		t.Fatalf("range: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// §13.1.5: If-Range with another tag gives the whole file.
	resp, body = get(t, "GET", srv.URL+"/sub/a.txt", "Range", "bytes=2-4", "If-Range", `"old"`)
	if resp.StatusCode != 200 || body != "0123456789" {
		t.Fatalf("If-Range: %d %q", resp.StatusCode, body)
	}
	for _, p := range []string{"/missing", "/../secret", "/link", "/sub/../../secret"} {
		if resp, _ := get(t, "GET", srv.URL+p); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := get(t, "POST", srv.URL+"/"); resp.StatusCode != 405 {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}

	// A changed file gets a new tag.
	later := time.Now().Add(time.Hour)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("changed"), 0o644)
	os.Chtimes(filepath.Join(dir, "index.html"), later, later)
	resp, body = get(t, "GET", srv.URL+"/", "If-None-Match", wantTag)
	if resp.StatusCode != 200 || body != "changed" || resp.Header.Get("Etag") != string(precond.ContentETag([]byte("changed"))) {
		t.Fatalf("after change: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}
