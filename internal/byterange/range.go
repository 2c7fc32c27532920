// RFC 9110 §14.4: Content-Range, and the outcomes of a range request.

package byterange

import (
	"errors"
	"net/http"
	"strconv"
)

// Outcomes of [Parse] other than a list of ranges. [ErrUnsatisfiable] asks
// for a 416 response; every other error asks the server to ignore the Range
// field and send the full 200 response (RFC 9110 §14.2).
var (
	// ErrInvalid reports a Range field that is not a valid ranges-specifier
	// for the bytes unit, or that names another range unit
	// (RFC 9110 §14.1.1, §14.2).
	ErrInvalid = errors.New("byterange: invalid range")

	// ErrTooMany reports a Range field with more than [MaxRanges]
	// range-specs (RFC 9110 §14.2).
	ErrTooMany = errors.New("byterange: too many ranges")

	// ErrNoContent reports a satisfiable Range field for a representation of
	// zero length, which selects no bytes (RFC 9110 §14.1.2, §14.2).
	ErrNoContent = errors.New("byterange: representation has no content")

	// ErrUnsatisfiable reports a valid Range field none of whose ranges
	// overlaps the representation (RFC 9110 §14.1.1, §15.5.17).
	ErrUnsatisfiable = errors.New("byterange: range not satisfiable")

	// ErrBoundary reports a multipart boundary that is malformed or occurs
	// in the content of a part (RFC 9110 §14.6).
	ErrBoundary = errors.New("byterange: unusable multipart boundary")

	// ErrContentType reports a Content-Type that cannot be written into the
	// header of a body part because it holds a control character.
	ErrContentType = errors.New("byterange: unusable content type")
)

// Range is a satisfiable byte range resolved against the representation
// length: Length bytes from offset Start (RFC 9110 §14.1.2). A Range
// returned by [Parse] has 0 <= Start, 0 < Length and Start+Length <= size.
type Range struct {
	Start, Length int64
}

// Last returns the offset of the last byte of r, the last-pos of
// RFC 9110 §14.1.2.
func (r Range) Last() int64 { return r.Start + r.Length - 1 }

// ContentRange returns the Content-Range field value for r in a
// representation of size bytes, such as "bytes 0-499/1234"
// (RFC 9110 §14.4). For an empty r it returns the unsatisfied-range form
// "bytes */size".
func (r Range) ContentRange(size int64) string {
	return string(r.appendContentRange(make([]byte, 0, 64), size))
}

// appendContentRange appends the Content-Range field value of r to dst
// (RFC 9110 §14.4).
func (r Range) appendContentRange(dst []byte, size int64) []byte {
	dst = append(dst, "bytes "...)
	if r.Length <= 0 {
		dst = append(dst, "*/"...)
		return strconv.AppendInt(dst, size, 10)
	}
	dst = strconv.AppendInt(dst, r.Start, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, r.Last(), 10)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, size, 10)
}

// contentRangeLen returns len(r.appendContentRange(nil, size)) for a
// non-empty r.
func (r Range) contentRangeLen(size int64) int64 {
	return int64(len("bytes -/")) + decLen(r.Start) + decLen(r.Last()) + decLen(size)
}

// decLen returns the number of decimal digits of n >= 0.
func decLen(n int64) int64 {
	l := int64(1)
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}

// Unsatisfiable prepares h, the header of the full response, for a 416
// (Range Not Satisfiable) response to a byte-range request: it sets
// Content-Range to "bytes */size" (RFC 9110 §14.4, §15.5.17) and deletes
// Content-Length, which described the full content. The caller writes the
// status and any body of its own. A negative size sets no Content-Range.
func Unsatisfiable(h http.Header, size int64) {
	h.Del("Content-Length")
	if size < 0 {
		return
	}
	h.Set("Content-Range", Range{}.ContentRange(size))
}
