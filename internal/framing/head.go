// RFC 9112 §6.3: the length of a response's content, decided from its head;
// §6.1: Transfer-Encoding; §2.2, §4, §5: the status line and field lines;
// §5.1: no whitespace between a field name and its colon.

package framing

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"

	"github.com/notmod/notmod/internal/httplex"
)

// Framing says how [Reframe] framed a response head: what it did with its
// Transfer-Encoding and Content-Length field lines. (Whatever the framing,
// Reframe removes whitespace between a field name and its colon.)
type Framing uint8

const (
	// Unchanged: the head has no Transfer-Encoding field, or exactly the
	// one net/http frames by itself (a single `chunked` on HTTP/1.1 and
	// later), or has no content on HTTP/1.0, where net/http drops the
	// field. Transfer-Encoding and Content-Length stay.
	Unchanged Framing = iota

	// Malformed: the head cannot be read unambiguously: its status line is
	// malformed (§4), or it carries Transfer-Encoding and a malformed field
	// line (one whose name is not a token, whitespace before the colon
	// aside), a field line folded onto the next (obs-fold, §5.2), or a
	// Transfer-Encoding list that is empty, not a list of transfer codings,
	// or applies chunked more than once (§6.1). Transfer-Encoding and
	// Content-Length stay, for net/http to read the head as it would
	// without this package: on HTTP/1.1 it refuses it unless it finds a
	// single chunked there, and a proxy then answers 502 (Bad Gateway), as
	// §5.2 allows for a response with obs-fold. A head whose status line
	// is malformed is returned as it is, whitespace before colons
	// included.
	Malformed

	// NoContent: the response has no content whatever its fields say: a
	// response to HEAD, a 1xx, 204 or 304 (RFC 9112 §6.3 rule 1; §6.1 lets
	// a response to HEAD and a 304 carry Transfer-Encoding), or a 2xx to
	// CONNECT (rule 2). Transfer-Encoding is removed; Content-Length stays.
	NoContent

	// Chunked: chunked is the final transfer coding, so the content is
	// delimited by the chunked coding (RFC 9112 §6.3 rule 4). The
	// Transfer-Encoding field lines are replaced by one
	// `Transfer-Encoding: chunked` and Content-Length is removed (rule 3:
	// Transfer-Encoding overrides it, and a sender removes it before
	// forwarding). The codings applied before chunked are not undone.
	Chunked

	// UntilClose: the final transfer coding is not chunked, so the content
	// ends when the server closes the connection (RFC 9112 §6.3 rule 4);
	// or the response is HTTP/1.0, whose framing is then faulty and whose
	// connection is closed after it (§6.1). Transfer-Encoding and
	// Content-Length are removed, so net/http reads the content until the
	// connection closes and then closes it: it is never reused. The
	// transfer codings are not undone: the bytes before the close are the
	// content.
	UntilClose
)

var framingNames = [...]string{"unchanged", "malformed", "no-content", "chunked", "until-close"}

// String returns the framing's name, such as "until-close".
func (f Framing) String() string {
	if int(f) < len(framingNames) {
		return framingNames[f]
	}
	return "framing(" + strconv.Itoa(int(f)) + ")"
}

// Result is what [Reframe] read from a response head.
type Result struct {
	// Status is the status code, or 0 when the status line is malformed.
	Status  int
	Framing Framing
}

// Interim reports whether the head is an interim response, a 1xx other
// than 101 (Switching Protocols): another response head follows it on
// the connection (RFC 9110 §15.2).
func (r Result) Interim() bool {
	return r.Status >= 100 && r.Status < 200 && r.Status != http.StatusSwitchingProtocols
}

// Reframe rewrites a response head so that net/http frames the message as
// RFC 9112 §6.3 says, where net/http would refuse it for its
// Transfer-Encoding ("unsupported transfer encoding"), and reads its field
// names as §5.1 says. head is the status line and the field lines up to
// and including the empty line that ends them; lines end in CRLF or, as
// net/http also reads them, a bare LF. method is the method of the request
// the response answers (HEAD and CONNECT change the framing); "" means GET.
//
// From every field line whose name is a token, Reframe removes the
// whitespace (SP and HTAB) between the name and the colon, whatever the
// framing: "A proxy MUST remove any such whitespace from a response
// message before forwarding the message downstream" (§5.1). The field is
// the one its name says: net/http alone would read `Transfer-Encoding :
// chunked` as a field named "Transfer-Encoding " that frames nothing (and
// `Cache-Control : private` as one that says nothing), and would refuse a
// name followed by HTAB. Besides that, only the Transfer-Encoding and
// Content-Length field lines are removed or replaced, as [Framing]
// documents; every other byte is kept, in order, with its line ends.
//
// When Reframe changes nothing, the returned slice is head itself;
// otherwise it is a new slice. Reframe never panics, whatever head holds,
// and is safe for concurrent use.
func Reframe(head []byte, method string) ([]byte, Result) {
	line, pos, ok := cutLine(head, 0)
	if !ok {
		return head, Result{Framing: Malformed}
	}
	major, minor, status, ok := parseStatusLine(line)
	if !ok {
		return head, Result{Framing: Malformed}
	}
	r := Result{Status: status}

	// The field lines (RFC 9112 §5), up to the empty line.
	var buf [4]field
	fields := buf[:0] // the field lines Reframe may change
	var te []string   // the Transfer-Encoding field line values, in order
	bad := bytes.IndexByte(line, '\r') >= 0
	for {
		start := pos
		line, pos, ok = cutLine(head, pos)
		if !ok || pos != len(head) && len(line) == 0 {
			// No empty line, or bytes after it: not one head.
			bad = true
			break
		}
		if len(line) == 0 {
			break
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		trimmed := bytes.TrimRight(name, " \t")
		f := field{start: start, end: pos, name: start + len(trimmed), ws: len(name) - len(trimmed)}
		name = trimmed
		switch {
		case !found || !isToken(name):
			// Not a field line (§5); a line folded onto the one before
			// (obs-fold, §5.2) begins with whitespace, which no token holds.
			bad = true
			continue
		case bytes.IndexByte(value, '\r') >= 0:
			bad = true // a CR that ends no line (§2.2)
		case equalFold(name, "Transfer-Encoding"):
			f.kind = teField
			te = append(te, httplex.TrimOWS(string(value)))
		case equalFold(name, "Content-Length"):
			f.kind = clField
		}
		if f.kind != otherField || f.ws > 0 {
			fields = append(fields, f)
		}
	}

	r.Framing = frame(te, bad, major > 1 || major == 1 && minor >= 1, status, method)
	mend := slices.ContainsFunc(fields, func(f field) bool { return f.ws > 0 })
	if !mend && (r.Framing == Unchanged || r.Framing == Malformed) {
		return head, r
	}
	return rewrite(head, fields, r.Framing), r
}

// frame returns the framing of a head from te, the values of its
// Transfer-Encoding field lines, whether a line of it is bad, whether it
// is HTTP/1.1 or later, its status code and the method of the request.
func frame(te []string, bad, http11 bool, status int, method string) Framing {
	if len(te) == 0 {
		return Unchanged
	}
	if bad {
		return Malformed
	}
	noContent := method == http.MethodHead || status/100 == 1 || status == http.StatusNoContent ||
		status == http.StatusNotModified || method == http.MethodConnect && status/100 == 2
	switch {
	case http11 && len(te) == 1 && httplex.EqualFold(te[0], "chunked"):
		// net/http frames it, and removes Content-Length itself (§6.3 rule 3).
		return Unchanged
	case noContent && !http11:
		// net/http ignores Transfer-Encoding on HTTP/1.0 and removes it.
		return Unchanged
	case noContent:
		return NoContent
	case !http11:
		return UntilClose
	}
	final, ok := finalCoding(te)
	switch {
	case !ok:
		return Malformed
	case final == "chunked":
		return Chunked
	}
	return UntilClose
}

// field is a field line of a head that Reframe may change: head[start:end],
// with its line end. Its name ends at head[name], followed by ws bytes of
// whitespace before the colon.
type field struct {
	start, end int
	name, ws   int
	kind       fieldKind
}

// fieldKind says which field a field line is.
type fieldKind uint8

const (
	otherField fieldKind = iota // kept for the whitespace after its name
	teField                     // Transfer-Encoding
	clField                     // Content-Length
)

// removedBy reports whether framing f removes the field line:
// Transfer-Encoding unless f leaves the field lines as they are,
// Content-Length when f is Chunked or UntilClose.
func (fl field) removedBy(f Framing) bool {
	switch fl.kind {
	case teField:
		return f != Unchanged && f != Malformed
	case clField:
		return f == Chunked || f == UntilClose
	}
	return false
}

// rewrite returns a copy of head without the whitespace after the names of
// fields and without the field lines framing f removes; for Chunked, the
// first Transfer-Encoding line becomes `Transfer-Encoding: chunked`.
func rewrite(head []byte, fields []field, f Framing) []byte {
	out := make([]byte, 0, len(head)+len("Transfer-Encoding: chunked\r\n"))
	pos, replaced := 0, false
	for _, fl := range fields {
		if !fl.removedBy(f) {
			out = append(out, head[pos:fl.name]...)
			pos = fl.name + fl.ws
			continue
		}
		out = append(out, head[pos:fl.start]...)
		pos = fl.end
		if fl.kind == teField && f == Chunked && !replaced {
			replaced = true
			out = append(out, "Transfer-Encoding: chunked"...)
			if fl.end >= 2 && head[fl.end-2] == '\r' {
				out = append(out, '\r')
			}
			out = append(out, '\n')
		}
	}
	return append(out, head[pos:]...)
}

// cutLine returns the line of head that starts at pos, without its line
// end (CRLF or LF, RFC 9112 §2.2), and the position after the line end. It
// reports false when no LF ends the line.
func cutLine(head []byte, pos int) (line []byte, next int, ok bool) {
	i := bytes.IndexByte(head[pos:], '\n')
	if i < 0 {
		return nil, len(head), false
	}
	line = head[pos : pos+i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, pos + i + 1, true
}

// parseStatusLine reads a status line (RFC 9112 §4) as net/http does: the
// HTTP version, a space, a three-digit status code, and an optional
// reason phrase after a space.
func parseStatusLine(line []byte) (major, minor, status int, ok bool) {
	version, rest, found := bytes.Cut(line, []byte(" "))
	if !found {
		return 0, 0, 0, false
	}
	rest = bytes.TrimLeft(rest, " ")
	code, _, _ := bytes.Cut(rest, []byte(" "))
	if len(code) != 3 {
		return 0, 0, 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, 0, 0, false
		}
		status = status*10 + int(c-'0')
	}
	major, minor, ok = http.ParseHTTPVersion(string(version))
	return major, minor, status, ok
}

// isToken reports whether b is a non-empty token (RFC 9110 §5.6.2).
func isToken(b []byte) bool {
	for _, c := range b {
		if !httplex.IsTokenChar(c) {
			return false
		}
	}
	return len(b) > 0
}

// equalFold reports whether b and the lower- or mixed-case ASCII s are
// equal ignoring ASCII case, as field names are compared (RFC 9110 §5.1).
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		d := s[i]
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}
