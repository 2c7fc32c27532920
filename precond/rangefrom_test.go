package precond

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestWriteRangeFrom checks Range answered from content read at the
// range's offset (RFC 9110 §14): the same 206 and 416 as WriteRange for
// one range, and nothing written where Range is ignored (§14.2).
func TestWriteRangeFrom(t *testing.T) {
	const content = "0123456789abcdef"
	cases := map[string]struct {
		spec         string
		handled      bool
		code         int
		body         string
		contentRange string
	}{
		// §14.1.2: first bytes, a suffix, an open end, a last-pos past the end.
		"first bytes": {"bytes=0-3", true, 206, "0123", "bytes 0-3/16"},
		"suffix":      {"bytes=-4", true, 206, "cdef", "bytes 12-15/16"},
		"open-ended":  {"bytes=10-", true, 206, "abcdef", "bytes 10-15/16"},
		"clamped":     {"bytes=14-99", true, 206, "ef", "bytes 14-15/16"},
		// §14.1.2: overlapping ranges merged into one.
		"merged": {"bytes=0-3,2-5", true, 206, "012345", "bytes 0-5/16"},
		// §15.5.17: nothing satisfiable.
		"unsatisfiable": {"bytes=100-200", true, 416, "", "bytes */16"},
		// §14.2: ignored: invalid, or several ranges (a multipart body).
		"invalid":  {"bytes=abc", false, 0, "", ""},
		"multiple": {"bytes=0-1,5-6", false, 0, "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", "16")
			handled, err := WriteRangeFrom(w, tc.spec, strings.NewReader(content), int64(len(content)))
			if err != nil || handled != tc.handled {
				t.Fatalf("WriteRangeFrom = %v, %v; want %v, nil", handled, err, tc.handled)
			}
			if !handled {
				if w.Body.Len() != 0 || w.Code != 200 || w.Header().Get("Content-Range") != "" {
					t.Fatalf("ignored Range, but wrote %d %q", w.Code, w.Body)
				}
				return
			}
			if w.Code != tc.code || w.Body.String() != tc.body || w.Header().Get("Content-Range") != tc.contentRange {
				t.Fatalf("got %d %q Content-Range %q; want %d %q %q", w.Code, w.Body, w.Header().Get("Content-Range"), tc.code, tc.body, tc.contentRange)
			}
			if got, want := w.Header().Get("Content-Length"), strconv.Itoa(len(tc.body)); got != want {
				t.Errorf("Content-Length %q, want %s", got, want)
			}
			// The same answer as from the content held whole.
			whole := httptest.NewRecorder()
			whole.Header().Set("Content-Type", "text/plain")
			whole.Header().Set("Content-Length", "16")
			WriteRange(whole, tc.spec, []byte(content))
			if whole.Code != w.Code || !bytes.Equal(whole.Body.Bytes(), w.Body.Bytes()) {
				t.Errorf("WriteRange answers %d %q", whole.Code, whole.Body)
			}
		})
	}
}

// failingReader fails after its first bytes, as a store's stream does
// when its content turns out damaged.
type failingReader struct{ *strings.Reader }

var errDamaged = errors.New("damaged")

func (f failingReader) Read(p []byte) (int, error) {
	if f.Len() < 10 {
		return 0, errDamaged
	}
	return f.Reader.Read(p[:1])
}

// TestWriteRangeFromReadError checks that a content that fails midway is
// reported, for the caller to abort the response.
func TestWriteRangeFromReadError(t *testing.T) {
	w := httptest.NewRecorder()
	handled, err := WriteRangeFrom(w, "bytes=0-", failingReader{strings.NewReader("0123456789abcdef")}, 16)
	if !handled || !errors.Is(err, errDamaged) {
		t.Fatalf("WriteRangeFrom = %v, %v; want true and the read error", handled, err)
	}
	if w.Code != http.StatusPartialContent {
		t.Errorf("status %d", w.Code)
	}
}
