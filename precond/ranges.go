// RFC 9110 §14: answering Range requests from a buffered representation.

package precond

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/notmod/notmod/internal/byterange"
)

// WriteRange answers the Range field spec of a GET from content, the
// complete representation whose 200 header fields w holds, as
// [Middleware] does: 206 with one part or a multipart/byteranges body
// (RFC 9110 §15.3.7), or 416 when no range is satisfiable (§15.5.17). It
// reports false, writing nothing, when Range must be ignored: the caller
// then sends the full 200 (§14.2). The caller evaluates If-Range first.
func WriteRange(w http.ResponseWriter, spec string, content []byte) bool {
	return serveRange(w, spec, content)
}

// serveRange answers the Range field spec from content, the complete
// representation whose 200 header w holds: 206 with one part or a
// multipart/byteranges body (§15.3.7), or 416 when no range is satisfiable
// (§15.5.17). It reports false, writing nothing, when Range must be ignored
// (an invalid field, too many ranges, empty content): the caller then sends
// the full 200 (§14.2).
func serveRange(w http.ResponseWriter, spec string, content []byte) bool {
	h := w.Header()
	size := int64(len(content))
	ranges, err := byterange.Parse(spec, size)
	if errors.Is(err, byterange.ErrUnsatisfiable) {
		writeUnsatisfiable(w, size)
		return true
	}
	if err != nil {
		return false
	}
	plan, err := byterange.NewPlan(content, ranges, h.Get("Content-Type"), "")
	if err != nil {
		return false
	}
	plan.Header(h)
	w.WriteHeader(http.StatusPartialContent)
	_, _ = plan.WriteTo(w)
	return true
}

// writeUnsatisfiable answers 416 for a representation of size bytes whose
// 200 header w holds (RFC 9110 §15.5.17).
func writeUnsatisfiable(w http.ResponseWriter, size int64) {
	h := w.Header()
	for k := range h {
		if isRepresentationField(k) {
			delete(h, k)
		}
	}
	byterange.Unsatisfiable(h, size)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
}

// WriteRangeFrom answers the Range field spec of a GET from content, the
// complete representation of size bytes whose 200 header fields w holds,
// read from where the range starts and never held whole: 206 with the
// one range asked for (RFC 9110 §15.3.7.1), or 416 when no range is
// satisfiable (§15.5.17). It reports false, writing nothing, when Range
// is ignored (§14.2 allows a server to ignore it): an invalid field, or
// more than one range once overlapping ones are merged, which would need
// a multipart body; the caller then sends the full 200. err is the
// failure of seeking, reading or writing the content once the status line
// is written: the response is then incomplete, and the caller should
// abort it. The caller evaluates If-Range first.
func WriteRangeFrom(w http.ResponseWriter, spec string, content io.ReadSeeker, size int64) (handled bool, err error) {
	ranges, err := byterange.Parse(spec, size)
	if errors.Is(err, byterange.ErrUnsatisfiable) {
		writeUnsatisfiable(w, size)
		return true, nil
	}
	if err != nil || len(ranges) != 1 {
		return false, nil
	}
	r := ranges[0]
	h := w.Header()
	h.Set("Content-Range", r.ContentRange(size))
	h.Set("Content-Length", strconv.FormatInt(r.Length, 10))
	w.WriteHeader(http.StatusPartialContent)
	if _, err := content.Seek(r.Start, io.SeekStart); err != nil {
		return true, err
	}
	n, err := io.Copy(w, io.LimitReader(content, r.Length))
	if err == nil && n != r.Length {
		err = io.ErrUnexpectedEOF
	}
	return true, err
}
