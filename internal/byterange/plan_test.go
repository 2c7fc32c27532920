package byterange

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// representation returns n bytes of varied content.
func representation(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// checkPlan plans the 206 for ranges of content, writes it and reads it back
// as a client would (RFC 9110 §15.3.7), reporting every difference.
func checkPlan(t testing.TB, content []byte, ranges []Range, contentType, boundary string) Plan {
	t.Helper()
	p, err := NewPlan(content, ranges, contentType, boundary)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	h := http.Header{
		"Content-Type":   {contentType},
		"Content-Length": {fmt.Sprint(len(content))},
		"Etag":           {`"v1"`},
	}
	p.Header(h)
	var body bytes.Buffer
	n, err := p.WriteTo(&body)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(body.Len()) || n != p.ContentLength() {
		t.Fatalf("WriteTo wrote %d bytes, returned %d, ContentLength %d", body.Len(), n, p.ContentLength())
	}
	if got, want := h.Get("Content-Length"), fmt.Sprint(body.Len()); got != want {
		t.Errorf("Content-Length = %s, body has %s bytes", got, want)
	}
	if h.Get("Etag") != `"v1"` {
		t.Error("ETag changed")
	}
	size := int64(len(content))
	if len(ranges) == 1 {
		// §15.3.7.1: Content-Range in the header, the range as content.
		r := ranges[0]
		if p.Multipart() {
			t.Error("single range planned as multipart")
		}
		if got, want := h.Get("Content-Range"), r.ContentRange(size); got != want {
			t.Errorf("Content-Range = %q, want %q", got, want)
		}
		if got := h.Get("Content-Type"); got != contentType {
			t.Errorf("Content-Type = %q, want %q", got, contentType)
		}
		if !bytes.Equal(body.Bytes(), content[r.Start:r.Start+r.Length]) {
			t.Errorf("body = %q, want %q", body.Bytes(), content[r.Start:r.Start+r.Length])
		}
		return p
	}
	// §15.3.7.2: no Content-Range in the header; multipart/byteranges.
	if !p.Multipart() {
		t.Error("several ranges not planned as multipart")
	}
	if v := h.Values("Content-Range"); v != nil {
		t.Errorf("Content-Range %q in a multipart response", v)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" || params["boundary"] != p.Boundary() {
		t.Fatalf("Content-Type = %q: %s %v %v", h.Get("Content-Type"), mt, params, err)
	}
	if boundary != "" && p.Boundary() != boundary {
		t.Errorf("boundary = %q, want %q", p.Boundary(), boundary)
	}
	mr := multipart.NewReader(bytes.NewReader(body.Bytes()), params["boundary"])
	for i, r := range ranges {
		part, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if got, want := part.Header.Get("Content-Range"), r.ContentRange(size); got != want {
			t.Errorf("part %d Content-Range = %q, want %q", i, got, want)
		}
		if got := part.Header.Values("Content-Type"); contentType == "" && got != nil || contentType != "" && (len(got) != 1 || got[0] != contentType) {
			t.Errorf("part %d Content-Type = %q, want %q", i, got, contentType)
		}
		got, err := io.ReadAll(part)
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if want := content[r.Start : r.Start+r.Length]; !bytes.Equal(got, want) {
			t.Errorf("part %d = %q, want %q", i, got, want)
		}
	}
	if _, err := mr.NextRawPart(); err != io.EOF {
		t.Errorf("after the last part: %v, want io.EOF", err)
	}
	return p
}

func TestPlan(t *testing.T) {
	content := representation(10000)
	tests := map[string]struct {
		header      string
		contentType string
		boundary    string
	}{
		// §15.3.7.1: one range, one part.
		"single": {header: "bytes=0-499", contentType: "text/plain"},
		// §15.3.7.1: the whole representation as one range.
		"single whole": {header: "bytes=-20000", contentType: "text/plain"},
		// §15.3.7.1: a single range never gives multipart, even without a type.
		"single no type": {header: "bytes=9999-"},
		// §15.3.7.2: the RFC 9110 §14.1.2 example of three ranges.
		"multiple": {header: "bytes= 0-999, 4500-5499, -1000", contentType: "application/pdf"},
		// §15.3.7.2: parts in the requested order.
		"multiple descending": {header: "bytes=-1,0-0", contentType: "text/plain; charset=utf-8"},
		// §15.3.7.2: Content-Type omitted in parts when the 200 had none.
		"multiple no type": {header: "bytes=0-0,2-2,4-4"},
		// §14.6: a caller-chosen boundary.
		"multiple boundary": {header: "bytes=0-9,20-29", contentType: "text/plain", boundary: "THIS_STRING_SEPARATES"},
		// §14.6: the longest boundary.
		"multiple long boundary": {header: "bytes=0-9,20-29", contentType: "text/plain", boundary: strings.Repeat("b", 70)},
		// §15.3.7.2: overlapping ranges coalesce into one part.
		"overlapping": {header: "bytes=0-10,5-20", contentType: "text/plain"},
		// §14.2: the most range-specs, each a part.
		"max parts": {header: "bytes=" + manyParts(MaxRanges), contentType: "text/plain"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			rs, err := Parse(tt.header, int64(len(content)))
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, content, rs, tt.contentType, tt.boundary)
		})
	}
}

// manyParts returns n disjoint range-specs.
func manyParts(n int) string {
	specs := make([]string, n)
	for i := range specs {
		specs[i] = fmt.Sprintf("%d-%d", i*3, i*3)
	}
	return strings.Join(specs, ",")
}

func TestPlanDeterministic(t *testing.T) {
	// §14.6: without a boundary, the same request gives the same bytes.
	content := representation(100)
	rs := []Range{{0, 10}, {50, 10}}
	write := func(c []byte) (string, string) {
		p, err := NewPlan(c, rs, "text/plain", "")
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := p.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		return p.Boundary(), b.String()
	}
	b1, body1 := write(content)
	b2, body2 := write(bytes.Clone(content))
	if b1 != b2 || body1 != body2 {
		t.Errorf("two plans of the same ranges differ: %q, %q", b1, b2)
	}
	if !validBoundary(b1) {
		t.Errorf("derived boundary %q is not valid", b1)
	}
	changed := bytes.Clone(content)
	changed[5] = '!'
	if b3, _ := write(changed); b3 == b1 {
		t.Errorf("boundary %q does not depend on the content", b3)
	}
}

func TestPlanExample(t *testing.T) {
	// §15.3.7.2: the exact multipart layout.
	content := []byte("0123456789")
	p, err := NewPlan(content, []Range{{0, 2}, {8, 2}}, "text/plain", "SEP")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := p.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := "--SEP\r\n" +
		"Content-Type: text/plain\r\n" +
		"Content-Range: bytes 0-1/10\r\n" +
		"\r\n" +
		"01" +
		"\r\n--SEP\r\n" +
		"Content-Type: text/plain\r\n" +
		"Content-Range: bytes 8-9/10\r\n" +
		"\r\n" +
		"89" +
		"\r\n--SEP--\r\n"
	if b.String() != want {
		t.Errorf("body =\n%q\nwant\n%q", b.String(), want)
	}
}

func TestNewPlanErrors(t *testing.T) {
	content := []byte("0123456789 --SEP 0123456789")
	tests := map[string]struct {
		ranges      []Range
		contentType string
		boundary    string
		err         error
	}{
		// §15.3.7: a 206 sends at least one range.
		"no ranges": {ranges: nil, err: ErrInvalid},
		// §14.1.2: an empty range.
		"empty range": {ranges: []Range{{0, 0}}, err: ErrInvalid},
		// §14.1.2: negative start.
		"negative start": {ranges: []Range{{-1, 2}}, err: ErrInvalid},
		// §14.1.2: past the end.
		"past end": {ranges: []Range{{20, 8}}, err: ErrInvalid},
		// §14.1.2: start past the end.
		"start past end": {ranges: []Range{{0, 1}, {28, 1}}, err: ErrInvalid},
		// §14.1.2: a length that would overflow.
		"overflow": {ranges: []Range{{1, 1<<63 - 1}}, err: ErrInvalid},
		// §14.6: a boundary that needs quoting.
		"boundary with space": {ranges: []Range{{0, 1}, {2, 1}}, boundary: "a b", err: ErrBoundary},
		// §14.6: a boundary with a CR.
		"boundary with CR": {ranges: []Range{{0, 1}, {2, 1}}, boundary: "a\rb", err: ErrBoundary},
		// RFC 2046 §5.1.1: at most 70 characters.
		"boundary too long": {ranges: []Range{{0, 1}, {2, 1}}, boundary: strings.Repeat("b", 71), err: ErrBoundary},
		// RFC 2046 §5.1.1: the boundary occurs in a part.
		"boundary in content": {ranges: []Range{{0, 1}, {10, 10}}, boundary: "SEP", err: ErrBoundary},
		// §15.3.7.2: a Content-Type that would break the part header.
		"content type with CRLF": {ranges: []Range{{0, 1}, {2, 1}}, contentType: "text/plain\r\nX-Evil: 1", err: ErrContentType},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewPlan(content, tt.ranges, tt.contentType, tt.boundary)
			if !errors.Is(err, tt.err) {
				t.Errorf("NewPlan error = %v, want %v", err, tt.err)
			}
		})
	}
	// The boundary in content is fine when it is in no selected part.
	if _, err := NewPlan(content, []Range{{0, 1}, {20, 2}}, "", "SEP"); err != nil {
		t.Errorf("boundary outside the parts: %v", err)
	}
}

func TestZeroPlan(t *testing.T) {
	var p Plan
	h := http.Header{"Content-Length": {"5"}}
	p.Header(h)
	if len(h) != 1 || h.Get("Content-Length") != "5" {
		t.Errorf("zero Plan changed the header: %v", h)
	}
	n, err := p.WriteTo(io.Discard)
	if n != 0 || err != nil {
		t.Errorf("zero Plan WriteTo = %d, %v", n, err)
	}
}

// limitWriter accepts limit bytes, then fails or writes short.
type limitWriter struct {
	limit int
	short bool
}

var errWrite = errors.New("write failed")

func (w *limitWriter) Write(b []byte) (int, error) {
	if len(b) <= w.limit {
		w.limit -= len(b)
		return len(b), nil
	}
	n := w.limit
	w.limit = 0
	if w.short {
		return n, nil
	}
	return n, errWrite
}

func TestWriteToErrors(t *testing.T) {
	content := representation(100)
	multi, err := NewPlan(content, []Range{{0, 10}, {50, 10}}, "text/plain", "SEP")
	if err != nil {
		t.Fatal(err)
	}
	single, err := NewPlan(content, []Range{{0, 10}}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Plan{"single": single, "multi": multi} {
		for limit := 0; int64(limit) < p.ContentLength(); limit += 7 {
			for _, short := range []bool{false, true} {
				n, err := p.WriteTo(&limitWriter{limit: limit, short: short})
				want := errWrite
				if short {
					want = io.ErrShortWrite
				}
				if n != int64(limit) || !errors.Is(err, want) {
					t.Errorf("%s: limit %d short %v: WriteTo = %d, %v", name, limit, short, n, err)
				}
			}
		}
	}
}
