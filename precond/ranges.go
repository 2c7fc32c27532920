// RFC 9110 §14: answering Range requests from a buffered representation.

package precond

import (
	"errors"
	"net/http"

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
		for k := range h {
			if isRepresentationField(k) {
				delete(h, k)
			}
		}
		byterange.Unsatisfiable(h, size)
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
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
