package framing

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// crlf turns the LF line ends of s into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// TestReframe runs Reframe over heads of every framing, then has net/http
// read the result, and checks that net/http frames it as RFC 9112 §6.3
// says: chunked, until close (no length, connection closed after), or no
// content.
func TestReframe(t *testing.T) {
	const unchangedHead = "" // want: the head as it is
	tests := []struct {
		name   string
		method string
		head   string // LF line ends, turned into CRLF unless lf is set
		lf     bool
		want   string
		result Result
		// What net/http then reads (for heads it accepts): chunked,
		// ContentLength, Close.
		chunked bool
		length  int64
		close   bool
		refused bool // net/http refuses the result (Malformed)
	}{
		// §6.3 rule 6: Content-Length, no Transfer-Encoding.
		{name: "content-length", head: "HTTP/1.1 200 OK\nContent-Length: 5\n\n",
			result: Result{200, Unchanged}, length: 5},
		// §6.3 rule 8: neither, so until close; net/http does that itself.
		{name: "no-length", head: "HTTP/1.1 200 OK\nContent-Type: text/plain\n\n",
			result: Result{200, Unchanged}, length: -1, close: true},
		// §6.3 rule 4: chunked final, the one coding net/http reads.
		{name: "chunked", head: "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n",
			result: Result{200, Unchanged}, chunked: true, length: -1},
		// §7: coding names are case-insensitive; net/http agrees.
		{name: "chunked-case", head: "HTTP/1.1 200 OK\nTransfer-Encoding:  Chunked \n\n",
			result: Result{200, Unchanged}, chunked: true, length: -1},
		// §6.3 rule 3: Transfer-Encoding overrides Content-Length; net/http
		// removes Content-Length itself.
		{name: "chunked-and-length", head: "HTTP/1.1 200 OK\nContent-Length: 3\nTransfer-Encoding: chunked\n\n",
			result: Result{200, Unchanged}, chunked: true, length: -1},
		// §6.3 rule 4: a final coding other than chunked: until close.
		{name: "gzip", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\nCache-Control: max-age=60\n\n",
			want:   "HTTP/1.1 200 OK\nCache-Control: max-age=60\n\n",
			result: Result{200, UntilClose}, length: -1, close: true},
		// The conformance suite's case: an unknown coding, keep-alive.
		{name: "unknown-coding", head: "HTTP/1.1 200 OK\nDate: Sun, 29 Nov 2026 18:16:35 GMT\nTransfer-Encoding: abc123\nConnection: keep-alive\nKeep-Alive: timeout=5\n\n",
			want:   "HTTP/1.1 200 OK\nDate: Sun, 29 Nov 2026 18:16:35 GMT\nConnection: keep-alive\nKeep-Alive: timeout=5\n\n",
			result: Result{200, UntilClose}, length: -1, close: true},
		// §6.3 rules 3 and 4: Content-Length is overridden and removed.
		{name: "gzip-and-length", head: "HTTP/1.1 200 OK\nContent-Length: 10\nTransfer-Encoding: gzip\nContent-Length: 10\n\n",
			want:   "HTTP/1.1 200 OK\n\n",
			result: Result{200, UntilClose}, length: -1, close: true},
		// §6.3 rule 4: chunked listed, but not final.
		{name: "chunked-not-final", head: "HTTP/1.1 200 OK\nTransfer-Encoding: chunked, gzip\n\n",
			want:   "HTTP/1.1 200 OK\n\n",
			result: Result{200, UntilClose}, length: -1, close: true},
		// §6.3 rule 4: chunked final after another coding.
		{name: "foo-chunked", head: "HTTP/1.1 200 OK\nTransfer-Encoding: foo, chunked\nX: y\n\n",
			want:   "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nX: y\n\n",
			result: Result{200, Chunked}, chunked: true, length: -1},
		// RFC 9110 §5.3: field lines combine into one list; rule 3 again.
		{name: "chunked-over-lines", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\nContent-Length: 4\nTransfer-Encoding: CHUNKED\n\n",
			want:   "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n",
			result: Result{200, Chunked}, chunked: true, length: -1},
		// RFC 9110 §5.6.1: empty list elements are ignored.
		{name: "empty-elements", head: "HTTP/1.1 200 OK\nTransfer-Encoding: ,chunked,\n\n",
			want:   "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n",
			result: Result{200, Chunked}, chunked: true, length: -1},
		// §7: transfer-parameters, a comma inside a quoted string.
		{name: "parameters", head: "HTTP/1.1 200 OK\nTransfer-Encoding: foo ; a=1;b=\"x,y\"\n\n",
			want:   "HTTP/1.1 200 OK\n\n",
			result: Result{200, UntilClose}, length: -1, close: true},
		// §2.2: bare LF line ends are read, and kept.
		{name: "bare-lf", lf: true, head: "HTTP/1.1 200 OK\nTransfer-Encoding: x, chunked\nA: b\n\n",
			want:   "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nA: b\n\n",
			result: Result{200, Chunked}, chunked: true, length: -1},
		// §6.3 rule 1, §6.1: a response to HEAD has no content;
		// Content-Length stays (it is what a GET would have had).
		{name: "head", method: "HEAD", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\nContent-Length: 7\n\n",
			want:   "HTTP/1.1 200 OK\nContent-Length: 7\n\n",
			result: Result{200, NoContent}, length: 7},
		// §6.3 rule 1, §6.1: a 304 may carry Transfer-Encoding.
		{name: "304", head: "HTTP/1.1 304 Not Modified\nTransfer-Encoding: gzip, chunked\nETag: \"a\"\n\n",
			want:   "HTTP/1.1 304 Not Modified\nETag: \"a\"\n\n",
			result: Result{304, NoContent}},
		// §6.3 rule 1; §6.1: a server must not send it in a 204 at all.
		{name: "204", head: "HTTP/1.1 204 No Content\nTransfer-Encoding: foo\n\n",
			want:   "HTTP/1.1 204 No Content\n\n",
			result: Result{204, NoContent}},
		// §6.3 rule 1; RFC 9110 §15.2: an interim response.
		{name: "100", head: "HTTP/1.1 100 Continue\nTransfer-Encoding: foo\n\n",
			want:   "HTTP/1.1 100 Continue\n\n",
			result: Result{100, NoContent}},
		{name: "103", head: "HTTP/1.1 103 Early Hints\nLink: </s.css>; rel=preload\n\n",
			result: Result{103, Unchanged}},
		// §6.3 rule 2: a 2xx to CONNECT becomes a tunnel (which
		// http.ReadResponse reads as content until close).
		{name: "connect", method: "CONNECT", head: "HTTP/1.1 200 OK\nTransfer-Encoding: foo\n\n",
			want:   "HTTP/1.1 200 OK\n\n",
			result: Result{200, NoContent}, length: -1, close: true},
		// §6.1: HTTP/1.0 with Transfer-Encoding: faulty framing, read until
		// close whatever Content-Length says, then close.
		{name: "http10", head: "HTTP/1.0 200 OK\nTransfer-Encoding: chunked\nContent-Length: 3\nConnection: keep-alive\n\n",
			want:   "HTTP/1.0 200 OK\nConnection: keep-alive\n\n",
			result: Result{200, UntilClose}, length: -1, close: true},
		// HTTP/1.0 without content: net/http drops the field itself.
		{name: "http10-head", method: "HEAD", head: "HTTP/1.0 200 OK\nTransfer-Encoding: gzip\nContent-Length: 3\n\n",
			result: Result{200, Unchanged}, length: 3, close: true},
		// §6.1: chunked applied twice.
		{name: "chunked-twice", head: "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n",
			result: Result{200, Malformed}, refused: true},
		// RFC 9110 §5.6.1: an empty list.
		{name: "empty-list", head: "HTTP/1.1 200 OK\nTransfer-Encoding: , \n\n",
			result: Result{200, Malformed}, refused: true},
		// §7: not a token; a parameter without a value; chunked with one.
		{name: "not-a-token", head: "HTTP/1.1 200 OK\nTransfer-Encoding: g(zip)\n\n",
			result: Result{200, Malformed}, refused: true},
		{name: "bad-parameter", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip;q\n\n",
			result: Result{200, Malformed}, refused: true},
		{name: "chunked-parameter", head: "HTTP/1.1 200 OK\nTransfer-Encoding: chunked;a=b\n\n",
			result: Result{200, Malformed}, refused: true},
		// §5.2: obs-fold in a response a proxy reads: 502.
		{name: "obs-fold", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip,\n chunked\n\n",
			result: Result{200, Malformed}, refused: true},
		// §5: a field line without a colon.
		{name: "bad-field-line", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\nnot a field\n\n",
			result: Result{200, Malformed}, refused: true},
		// §5.1: no whitespace is allowed between a field name and its
		// colon, and a proxy must remove it from a response. The field is
		// then the one its name says (net/http alone reads a field named
		// "Transfer-Encoding ", and frames the content by the close).
		{name: "space-before-colon", head: "HTTP/1.1 200 OK\nTransfer-Encoding : gzip\n\n",
			want:   "HTTP/1.1 200 OK\n\n",
			result: Result{200, UntilClose}, length: -1, close: true},
		{name: "space-before-colon-chunked", head: "HTTP/1.1 200 OK\nTransfer-Encoding  : chunked\nContent-Length : 3\n\n",
			want:   "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nContent-Length: 3\n\n",
			result: Result{200, Unchanged}, chunked: true, length: -1},
		// §5.1, §6.3 rule 1: Content-Length stays, mended.
		{name: "space-before-colon-head", method: "HEAD", head: "HTTP/1.1 200 OK\nTransfer-Encoding : gzip\nContent-Length : 7\n\n",
			want:   "HTTP/1.1 200 OK\nContent-Length: 7\n\n",
			result: Result{200, NoContent}, length: 7},
		// §5.1: HTAB too (net/http alone refuses the head), on any field.
		{name: "tab-before-colon", head: "HTTP/1.1 200 OK\nCache-Control \t: private\nContent-Length\t: 5\n\n",
			want:   "HTTP/1.1 200 OK\nCache-Control: private\nContent-Length: 5\n\n",
			result: Result{200, Unchanged}, length: 5},
		// §5.1, §6.1: mended, then read as chunked twice: net/http refuses
		// it as it refuses the same head without the whitespace.
		{name: "space-before-colon-malformed", head: "HTTP/1.1 200 OK\nTransfer-Encoding : chunked\nTransfer-Encoding: chunked\n\n",
			want:   "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n",
			result: Result{200, Malformed}, refused: true},
		// §5.2: a line folded onto the one before is part of its value, not
		// a field name: its colon is left alone (net/http reads X as
		// "a b : c").
		{name: "obs-fold-colon", head: "HTTP/1.1 200 OK\nX: a\n b : c\nContent-Length: 0\n\n",
			result: Result{200, Unchanged}},
		// §5: whitespace inside a name is not before the colon: a malformed
		// field line, left as it is.
		{name: "space-inside-name", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\nCache Control : x\n\n",
			result: Result{200, Malformed}, refused: true},
		// §4: a malformed status line.
		{name: "bad-status", head: "HTTP/1.1 2000 OK\nTransfer-Encoding: gzip\n\n",
			result: Result{0, Malformed}, refused: true},
		// §4: status-code is 3DIGIT.
		{name: "status-not-digits", head: "HTTP/1.1 2x0 OK\nTransfer-Encoding: gzip\n\n",
			result: Result{0, Malformed}, refused: true},
		// §4: HTTP-version SP status-code; a status line without the SP.
		{name: "status-no-space", head: "HTTP/1.1\nTransfer-Encoding: gzip\n\n",
			result: Result{0, Malformed}, refused: true},
		// §2.3: HTTP-version is "HTTP/" DIGIT "." DIGIT.
		{name: "bad-version", head: "HTTP/one 200 OK\nTransfer-Encoding: gzip\n\n",
			result: Result{0, Malformed}, refused: true},
		// §2.1: the status line ends in a line end; without one there is
		// no head.
		{name: "no-line-end", head: "HTTP/1.1 200 OK",
			result: Result{0, Malformed}, refused: true},
		// §2.1: the field lines end with an empty line; a head without it,
		// or with bytes after it, is not one head.
		{name: "no-empty-line", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n",
			result: Result{200, Malformed}, refused: true},
		{name: "after-empty-line", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n\nX: y\n",
			result: Result{200, Malformed}, refused: true},
		// §2.2: a bare CR, in the status line or in a field line, is invalid.
		{name: "bare-cr-status", head: "HTTP/1.1 200 O\rK\nTransfer-Encoding: gzip\n\n",
			result: Result{200, Malformed}, refused: true},
		{name: "bare-cr-field", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\nX: a\rb\n\n",
			result: Result{200, Malformed}, refused: true},
		// §5: field-name is a token, of one character at least.
		{name: "empty-name", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n: x\n\n",
			result: Result{200, Malformed}, refused: true},
		// §5.2: obs-fold begins with SP or HTAB.
		{name: "obs-fold-tab", head: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip,\n\tchunked\n\n",
			result: Result{200, Malformed}, refused: true},
		// RFC 9110 §5.1: field names are compared whole: names as long as
		// Transfer-Encoding and Content-Length that differ from them name
		// other fields.
		{name: "near-names", head: "HTTP/1.1 200 OK\nX-Transfer-Coding: gzip\nContent-Lenght: 9\nContent-Length: 2\n\n",
			result: Result{200, Unchanged}, length: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, want := tt.head, tt.want
			if want == unchangedHead {
				want = head
			}
			if !tt.lf {
				head, want = crlf(head), crlf(want)
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			in := []byte(head)
			out, r := Reframe(in, method)
			if string(out) != want || r != tt.result {
				t.Fatalf("Reframe:\n got %q %+v\nwant %q %+v", out, r, want, tt.result)
			}
			if same := want == head; same != (&out[0] == &in[0]) {
				t.Errorf("%v: returned head itself %v, want %v", r.Framing, !same, same)
			}
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(out))), &http.Request{Method: method})
			if tt.refused {
				if err == nil {
					t.Fatalf("net/http read %q, want it refused", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("net/http: %v", err)
			}
			defer resp.Body.Close()
			if got := len(resp.TransferEncoding) == 1 && resp.TransferEncoding[0] == "chunked"; got != tt.chunked {
				t.Errorf("net/http: TransferEncoding %q, want chunked %v", resp.TransferEncoding, tt.chunked)
			}
			if resp.ContentLength != tt.length || resp.Close != tt.close {
				t.Errorf("net/http: ContentLength %d Close %v, want %d %v", resp.ContentLength, resp.Close, tt.length, tt.close)
			}
			if v := resp.Header.Values("Transfer-Encoding"); len(v) > 0 {
				t.Errorf("net/http kept Transfer-Encoding %q", v)
			}
			if n, _ := io.Copy(io.Discard, resp.Body); n != 0 {
				t.Errorf("net/http read %d bytes of content after the head", n)
			}
		})
	}
}

// TestReframeRefused checks that net/http refuses, unchanged, every head
// Reframe rewrites (so that nothing it already reads is changed), and
// reads the rewritten one.
func TestReframeRefused(t *testing.T) {
	for _, head := range []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: foo, chunked\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 100 Continue\r\nTransfer-Encoding: gzip\r\n\r\n",
	} {
		_, err := http.ReadResponse(bufio.NewReader(strings.NewReader(head)), &http.Request{Method: "GET"})
		if err == nil || !strings.Contains(err.Error(), "transfer encoding") {
			t.Errorf("net/http on %q: %v, want unsupported transfer encoding", head, err)
		}
		out, _ := Reframe([]byte(head), "GET")
		if _, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), &http.Request{Method: "GET"}); err != nil {
			t.Errorf("net/http on %q: %v", out, err)
		}
	}
}

func TestFramingString(t *testing.T) {
	for f, want := range map[Framing]string{Unchanged: "unchanged", UntilClose: "until-close", Framing(9): "framing(9)"} {
		if got := f.String(); got != want {
			t.Errorf("%d: %q, want %q", f, got, want)
		}
	}
}
