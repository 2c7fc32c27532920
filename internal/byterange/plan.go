// RFC 9110 §15.3.7 and §14.6: the 206 (Partial Content) response, as a
// single part or as multipart/byteranges.

package byterange

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// maxBoundary is the longest boundary RFC 2046 §5.1.1 allows.
const maxBoundary = 70

// Plan is the layout of a 206 (Partial Content) response that sends some
// ranges of a complete representation held in memory: a single part for
// one range (RFC 9110 §15.3.7.1), a multipart/byteranges body for several
// (§15.3.7.2, §14.6). Its size is known before anything is written, so that
// [Plan.Header] can run before the status line and [Plan.WriteTo] after it.
//
// A Plan refers to the content and ranges given to [NewPlan] without
// copying them; they must not change while the Plan is in use. A Plan is
// immutable and safe for concurrent use. The zero Plan sends nothing.
type Plan struct {
	content     []byte
	ranges      []Range
	contentType string
	boundary    string // empty for a single part
	length      int64
}

// NewPlan lays out the 206 response that sends ranges of content, the
// complete representation, in the given order. Each range must be
// non-empty and lie within content, as the ranges returned by [Parse] for
// len(content) do.
//
// contentType is the Content-Type the 200 response would have had; it is
// repeated in each part of a multipart body and omitted there when empty
// (§15.3.7.2). boundary separates the parts of a multipart body; it must be
// 1 to 70 characters among letters, digits and "'+-._", which need no
// quoting in the Content-Type parameter (RFC 9110 §14.6 note 2). When
// boundary is empty, one is derived from the selected bytes, so that the
// same ranges of the same content always give the same body. Both are
// ignored for a single range.
//
// The error wraps [ErrInvalid] for missing or out-of-bounds ranges,
// [ErrContentType] for a contentType holding a control character and
// [ErrBoundary] for a malformed boundary or one that occurs in a part's
// content. On error the caller sends the full 200 response instead.
func NewPlan(content []byte, ranges []Range, contentType, boundary string) (Plan, error) {
	size := int64(len(content))
	if len(ranges) == 0 {
		return Plan{}, fmt.Errorf("%w: no range to send", ErrInvalid)
	}
	for _, r := range ranges {
		if r.Start < 0 || r.Length <= 0 || r.Start > size || r.Length > size-r.Start {
			return Plan{}, fmt.Errorf("%w: range at %d of %d bytes outside %d bytes", ErrInvalid, r.Start, r.Length, size)
		}
	}
	if len(ranges) == 1 {
		return Plan{content: content, ranges: ranges, length: ranges[0].Length}, nil
	}
	if !headerSafe(contentType) {
		return Plan{}, fmt.Errorf("%w: %q", ErrContentType, contentType)
	}
	if boundary == "" {
		boundary = deriveBoundary(content, ranges)
	} else if !validBoundary(boundary) {
		return Plan{}, fmt.Errorf("%w: %q", ErrBoundary, boundary)
	}
	// A part containing "--boundary" could be read as a delimiter
	// (RFC 2046 §5.1.1); refuse rather than send a body that misparses.
	delim := []byte("--" + boundary)
	for _, r := range ranges {
		if bytes.Contains(content[r.Start:r.Start+r.Length], delim) {
			return Plan{}, fmt.Errorf("%w: %q occurs in range at %d", ErrBoundary, boundary, r.Start)
		}
	}
	p := Plan{content: content, ranges: ranges, contentType: contentType, boundary: boundary}
	for i, r := range ranges {
		p.length += p.partHeaderLen(i, r) + r.Length
	}
	p.length += int64(len("\r\n--") + len(boundary) + len("--\r\n"))
	return p, nil
}

// Multipart reports whether p sends a multipart/byteranges body.
func (p Plan) Multipart() bool { return p.boundary != "" }

// ContentLength returns the number of bytes [Plan.WriteTo] writes.
func (p Plan) ContentLength() int64 { return p.length }

// Boundary returns the multipart boundary, or "" for a single part.
func (p Plan) Boundary() string { return p.boundary }

// Header sets the fields of h, the header of the full response, that
// describe the 206 content; the caller then writes
// [net/http.StatusPartialContent]. For a single part it sets Content-Range
// (§15.3.7.1); for a multipart body it sets Content-Type to
// multipart/byteranges with its boundary and deletes Content-Range, which
// belongs in the parts (§15.3.7.2). In both cases it sets Content-Length to
// [Plan.ContentLength] (§15.3.7). Other fields, such as ETag, Cache-Control
// and Vary, are left as the 200 response had them (§15.3.7). The zero Plan
// changes nothing.
func (p Plan) Header(h http.Header) {
	switch {
	case len(p.ranges) == 0:
		return
	case p.boundary == "":
		h.Set("Content-Range", p.ranges[0].ContentRange(int64(len(p.content))))
	default:
		h.Del("Content-Range")
		h.Set("Content-Type", "multipart/byteranges; boundary="+p.boundary)
	}
	h.Set("Content-Length", strconv.FormatInt(p.length, 10))
}

// WriteTo writes the 206 content to w: the one range, or the multipart body
// with a Content-Type (when known) and a Content-Range in each part
// (§14.6, §15.3.7.2). It returns the number of bytes written, which is
// [Plan.ContentLength] unless w fails, and the first error of w; a short
// write without an error is reported as [io.ErrShortWrite].
func (p Plan) WriteTo(w io.Writer) (int64, error) {
	if p.boundary == "" {
		if len(p.ranges) == 0 {
			return 0, nil
		}
		r := p.ranges[0]
		return write(w, p.content[r.Start:r.Start+r.Length])
	}
	var total int64
	buf := make([]byte, 0, 128+len(p.contentType)+len(p.boundary))
	for i, r := range p.ranges {
		buf = p.appendPartHeader(buf[:0], i, r)
		n, err := write(w, buf)
		total += n
		if err != nil {
			return total, err
		}
		n, err = write(w, p.content[r.Start:r.Start+r.Length])
		total += n
		if err != nil {
			return total, err
		}
	}
	buf = append(buf[:0], "\r\n--"...)
	buf = append(buf, p.boundary...)
	buf = append(buf, "--\r\n"...)
	n, err := write(w, buf)
	return total + n, err
}

// appendPartHeader appends to dst the delimiter and header section that
// precede part i, which holds r (RFC 2046 §5.1.1, RFC 9110 §14.6).
func (p Plan) appendPartHeader(dst []byte, i int, r Range) []byte {
	if i > 0 {
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "--"...)
	dst = append(dst, p.boundary...)
	dst = append(dst, "\r\n"...)
	if p.contentType != "" {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, p.contentType...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "Content-Range: "...)
	dst = r.appendContentRange(dst, int64(len(p.content)))
	return append(dst, "\r\n\r\n"...)
}

// partHeaderLen returns len(p.appendPartHeader(nil, i, r)).
func (p Plan) partHeaderLen(i int, r Range) int64 {
	n := int64(len("--") + len(p.boundary) + len("\r\n"))
	if i > 0 {
		n += int64(len("\r\n"))
	}
	if p.contentType != "" {
		n += int64(len("Content-Type: ") + len(p.contentType) + len("\r\n"))
	}
	return n + int64(len("Content-Range: ")) + r.contentRangeLen(int64(len(p.content))) + int64(len("\r\n\r\n"))
}

// write writes b to w, turning a short write into [io.ErrShortWrite].
func write(w io.Writer, b []byte) (int64, error) {
	n, err := w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	return int64(n), err
}

// deriveBoundary returns a boundary computed from the selected bytes and
// their positions, which a part's content cannot contain short of finding
// a fixed point of SHA-256.
func deriveBoundary(content []byte, ranges []Range) string {
	h := sha256.New()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(len(content)))
	h.Write(b[:8])
	for _, r := range ranges {
		binary.BigEndian.PutUint64(b[:8], uint64(r.Start))
		binary.BigEndian.PutUint64(b[8:], uint64(r.Length))
		h.Write(b[:])
		h.Write(content[r.Start : r.Start+r.Length])
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// validBoundary reports whether b is 1 to 70 boundary characters
// (RFC 2046 §5.1.1) that are also token characters (RFC 9110 §5.6.2), so
// that the boundary parameter needs no quoting.
func validBoundary(b string) bool {
	if len(b) == 0 || len(b) > maxBoundary {
		return false
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '\'', c == '+', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// headerSafe reports whether s can be written as a field value in a part
// header: no control characters other than HTAB.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
