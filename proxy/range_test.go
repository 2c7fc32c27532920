// RFC 9110 §14 and RFC 9111 §3.4: Range requests, end to end.

package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRangeOnHit checks that a Range request is answered from a stored
// complete 200 (RFC 9111 §3.4 and RFC 9110 §14.2).
func TestRangeOnHit(t *testing.T) {
	const content = "0123456789abcdef"
	cases := map[string]struct {
		fields       []string
		wantCode     int
		wantBody     string
		contentRange string
	}{
		// RFC 9110 §14.1.2, §15.3.7: the first four bytes.
		"first bytes": {[]string{"Range", "bytes=0-3"}, 206, "0123", "bytes 0-3/16"},
		// RFC 9110 §14.1.2: a suffix range.
		"suffix": {[]string{"Range", "bytes=-4"}, 206, "cdef", "bytes 12-15/16"},
		// RFC 9110 §14.1.2: an open-ended range.
		"open-ended": {[]string{"Range", "bytes=10-"}, 206, "abcdef", "bytes 10-15/16"},
		// RFC 9110 §13.1.5: If-Range with the current tag: the range.
		"If-Range matching": {[]string{"Range", "bytes=0-3", "If-Range", `"r1"`}, 206, "0123", "bytes 0-3/16"},
		// RFC 9110 §13.1.5: If-Range with another tag: the whole content.
		"If-Range not matching": {[]string{"Range", "bytes=0-3", "If-Range", `"other"`}, 200, content, ""},
		// RFC 9110 §15.5.17: no satisfiable range: 416.
		"unsatisfiable": {[]string{"Range", "bytes=100-200"}, 416, "", "bytes */16"},
		// RFC 9110 §14.2: an invalid Range is ignored.
		"invalid": {[]string{"Range", "bytes=abc"}, 200, content, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("Etag", `"r1"`)
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, content)
			}, envOptions{})
			e.do(t, http.MethodGet, "/r")
			r := e.do(t, http.MethodGet, "/r", tc.fields...)
			e.check(t, "GET", r, http.MethodGet, tc.wantCode, "notmod; hit; ttl=60", &tc.wantBody)
			if got := r.header.Get("Content-Range"); got != tc.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
			}
			if tc.wantCode != 416 && r.length != int64(len(tc.wantBody)) {
				t.Errorf("Content-Length %d, want %d", r.length, len(tc.wantBody))
			}
			// RFC 9110 §14.2: Range is defined for GET only; HEAD gets the
			// 200 header.
			r = e.do(t, http.MethodHead, "/r", tc.fields...)
			e.check(t, "HEAD", r, http.MethodHead, 200, "notmod; hit; ttl=60", nil)
			if r.length != int64(len(content)) || r.header.Get("Content-Range") != "" {
				t.Errorf("HEAD: Content-Length %d, Content-Range %q", r.length, r.header.Get("Content-Range"))
			}
			e.wantCount(t, "after both", 1)
		})
	}
}

// TestRangeOnMiss sends a Range request for a URL with nothing stored:
// it goes to the origin as it is, and the 206 is not stored as a whole
// response (RFC 9111 §3.4).
func TestRangeOnMiss(t *testing.T) {
	const content = "0123456789abcdef"
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Etag", `"r1"`)
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(content))
	}, envOptions{})
	r := e.do(t, http.MethodGet, "/r", "Range", "bytes=0-3")
	e.check(t, "Range", r, http.MethodGet, 206, "notmod; fwd=uri-miss; fwd-status=206; detail=status", ptr("0123"))
	if got := e.lastSeen(t).Header.Get("Range"); got != "bytes=0-3" {
		t.Errorf("origin saw Range %q", got)
	}
	r = e.do(t, http.MethodGet, "/r")
	e.check(t, "whole", r, http.MethodGet, 200, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60", ptr(content))
	r = e.do(t, http.MethodGet, "/r", "Range", "bytes=4-7")
	e.check(t, "Range on the hit", r, http.MethodGet, 206, "notmod; hit; ttl=60", ptr("4567"))
	e.wantCount(t, "after", 2)
}
