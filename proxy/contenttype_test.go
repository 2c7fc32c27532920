package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestNoContentTypeInvented checks that a response the origin sent
// without Content-Type reaches the client without one, forwarded or from
// cache: guessing a media type is for the recipient, not an intermediary
// (RFC 9110 §8.3).
func TestNoContentTypeInvented(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header()["Content-Type"] = nil // net/http would guess text/html
		_, _ = io.WriteString(w, "<html>guess me</html>")
	}, envOptions{})
	for _, m := range bothMethods() {
		for i, want := range []string{"fwd=uri-miss", "hit"} {
			if m == http.MethodHead && i == 0 {
				continue // stored by the GET
			}
			r := e.do(t, m, "/untyped")
			if ct, ok := r.header["Content-Type"]; ok {
				t.Errorf("%s %d: Content-Type %q, want none", m, i, ct)
			}
			if got := r.status(); !containsParam(got, want) {
				t.Errorf("%s %d: Cache-Status %q, want %s", m, i, got, want)
			}
		}
	}
}

// containsParam reports whether the Cache-Status member s has the
// parameter param (a name, or name=value).
func containsParam(s, param string) bool {
	for _, p := range strings.Split(s, ";") {
		if strings.TrimSpace(p) == param {
			return true
		}
	}
	return false
}
