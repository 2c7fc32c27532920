package framing

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/notmod/notmod/internal/httplex"
)

var fuzzMethods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodConnect}

// FuzzReframe checks Reframe against net/http on any head: it never
// panics; it removes the whitespace between each field name and its colon
// (RFC 9112 §5.1) from any head whose status line it reads; besides that,
// it changes only heads net/http refuses (or HTTP/1.0 heads with
// Transfer-Encoding and content, RFC 9112 §6.1); what it changes net/http
// reads, framed as RFC 9112 §6.3 says; it removes or replaces only
// Transfer-Encoding and Content-Length field lines; and it is stable (its
// output is unchanged by a second pass).
func FuzzReframe(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: foo, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 100 Continue\r\nTransfer-Encoding: x\r\n\r\n",
		"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n",
		"HTTP/1.1 200 OK\nTransfer-Encoding: a;b=\"c,d\", chunked\n\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding : gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length\t: 3\r\nX: a\r\n b : c\r\nCache Control : x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/2.0 204 x\r\ntransfer-encoding: x\r\ncontent-length: -1\r\n\r\n",
		"HTTP/1.1 +20 OK\r\nTransfer-Encoding: x\r\n\r\n",
	} {
		for m := range fuzzMethods {
			f.Add([]byte(s), uint8(m))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, m uint8) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		end := headEnd(b, 0)
		if end < 0 {
			b = append(b, "\r\n\r\n"...)
			end = headEnd(b, 0)
		}
		head := b[:end:end]
		in := bytes.Clone(head)
		out, r := Reframe(head, method)
		if !bytes.Equal(head, in) {
			t.Fatalf("Reframe modified its input %q", in)
		}
		// What Reframe does whatever the framing: mend the field names.
		mended := string(head)
		if status, _, _ := bytes.Cut(head, []byte("\n")); parsesStatusLine(status) {
			mended = mendNames(head)
		}
		if bytes.Equal(out, head) != (&out[0] == &head[0]) {
			t.Fatalf("%q became %q, a new slice %v", head, out, &out[0] != &head[0])
		}
		changed := r.Framing != Unchanged && r.Framing != Malformed
		if !changed && string(out) != mended {
			t.Fatalf("%v, yet %q became %q, want %q", r.Framing, head, out, mended)
		}
		again, r2 := Reframe(out, method)
		if !changed && r2 != r || changed && r2.Framing != Unchanged || !bytes.Equal(again, out) {
			t.Fatalf("%q: a second pass gave %v %q", out, r2.Framing, again)
		}

		req := &http.Request{Method: method}
		goIn, errIn := http.ReadResponse(bufio.NewReader(strings.NewReader(mended)), req)
		if errIn == nil && r.Status != 0 && r.Status != goIn.StatusCode {
			t.Fatalf("%q: status %d, net/http read %d", mended, r.Status, goIn.StatusCode)
		}
		if !changed {
			return
		}
		if errIn == nil && goIn.ProtoAtLeast(1, 1) {
			t.Fatalf("%q, which net/http reads, became %q (%v)", mended, out, r.Framing)
		}
		if a, b := withoutFraming([]byte(mended)), withoutFraming(out); a != b {
			t.Fatalf("%q became %q: other lines changed", head, out)
		}
		goOut, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), req)
		if err != nil {
			if strings.Contains(err.Error(), "transfer encoding") {
				t.Fatalf("%q became %q, which net/http refuses: %v", head, out, err)
			}
			return // refused for something else (a bad Date is not ours to mend)
		}
		if v := goOut.Header.Values("Transfer-Encoding"); len(v) > 0 {
			t.Fatalf("%q: net/http kept Transfer-Encoding %q", out, v)
		}
		chunked := len(goOut.TransferEncoding) == 1
		switch r.Framing {
		case Chunked:
			if !chunked {
				t.Fatalf("%q: chunked, net/http reads %q", out, goOut.TransferEncoding)
			}
		case UntilClose:
			if chunked || goOut.ContentLength != -1 || !goOut.Close {
				t.Fatalf("%q: until close, net/http reads chunked %v length %d close %v", out, chunked, goOut.ContentLength, goOut.Close)
			}
		case NoContent:
			if chunked {
				t.Fatalf("%q: no content, net/http reads chunked", out)
			}
		}
	})
}

// withoutFraming returns head without its Transfer-Encoding and
// Content-Length field lines.
func withoutFraming(head []byte) string {
	var kept strings.Builder
	for line := range strings.Lines(string(head)) {
		name, _, _ := strings.Cut(line, ":")
		if httplex.EqualFold(name, "Transfer-Encoding") || httplex.EqualFold(name, "Content-Length") {
			continue
		}
		kept.WriteString(line)
	}
	return kept.String()
}

// mendNames returns head without the whitespace between the name and the
// colon of its field lines (RFC 9112 §5.1): the lines after the first whose
// text before the first colon is a token followed by SP and HTAB.
func mendNames(head []byte) string {
	var b strings.Builder
	first := true
	for line := range strings.Lines(string(head)) {
		name, rest, found := strings.Cut(line, ":")
		if trimmed := strings.TrimRight(name, " \t"); !first && found && trimmed != name && httplex.IsToken(trimmed) {
			line = trimmed + ":" + rest
		}
		b.WriteString(line)
		first = false
	}
	return b.String()
}

// parsesStatusLine reports whether line, with its line end, is a status
// line Reframe reads.
func parsesStatusLine(line []byte) bool {
	_, _, _, ok := parseStatusLine(bytes.TrimSuffix(line, []byte("\r")))
	return ok
}

// FuzzFinalCoding checks that finalCoding never panics and that what it
// accepts is a list of transfer codings (RFC 9112 §6.1, §7) whose last
// member it returns, in lower case, with chunked at most once.
func FuzzFinalCoding(f *testing.F) {
	for _, s := range []string{"chunked", "gzip, chunked", "a;b=c\nchunked", `x;y="1,2;3"`, ",,", "chunked;a=b", "chunked,CHUNKED", "a ; b = c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "\n")
		final, ok := finalCoding(lines)
		if !ok {
			if final != "" {
				t.Fatalf("%q: %q with false", s, final)
			}
			return
		}
		if !httplex.IsToken(final) || final != strings.ToLower(final) {
			t.Fatalf("%q: final coding %q", s, final)
		}
		var last string
		chunked := 0
		for el := range httplex.ElementsOf(lines) {
			name, _, _ := strings.Cut(el, ";")
			last = strings.ToLower(httplex.TrimOWS(name))
			if last == "chunked" {
				chunked++
			}
		}
		if last != final || chunked > 1 {
			t.Fatalf("%q: final %q, last member %q, chunked %d times", s, final, last, chunked)
		}
	})
}

// FuzzHeadEnd checks headEnd against a plain reading of the lines
// (RFC 9112 §2.1, §2.2: the head ends with the first empty line after the
// first line; a line ends in LF, optionally after CR), and that searching
// a head that arrives in two pieces finds the same end.
func FuzzHeadEnd(f *testing.F) {
	for _, s := range []string{"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody", "HTTP/1.1 200 OK\n\nx", "\r\n\r\n", "a\r\r\n\r\n", "a\n\r\r\n\n", "x\r\n"} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, b []byte, split uint16) {
		want, pos := -1, 0
		for i, line := range bytes.SplitAfter(b, []byte("\n")) {
			pos += len(line)
			if i > 0 && (string(line) == "\n" || string(line) == "\r\n") {
				want = pos
				break
			}
		}
		if got := headEnd(b, 0); got != want {
			t.Fatalf("headEnd(%q) = %d, want %d", b, got, want)
		}
		k := int(split) % (len(b) + 1)
		got := headEnd(b[:k], 0)
		if got < 0 {
			got = headEnd(b, k)
		}
		if got != want {
			t.Fatalf("headEnd(%q) in pieces at %d = %d, want %d", b, k, got, want)
		}
	})
}
