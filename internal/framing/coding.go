// RFC 9112 §6.1 and §7: the Transfer-Encoding field, a list of transfer
// codings.

package framing

import (
	"strings"

	"github.com/notmod/notmod/internal/httplex"
)

// finalCoding reads the Transfer-Encoding field lines, combined into one
// list (RFC 9110 §5.3), and returns the name of the last transfer coding,
// the one applied last, in lower case (coding names are case-insensitive,
// RFC 9112 §7). Empty list elements are skipped (RFC 9110 §5.6.1).
//
// It reports false when the list cannot frame a message unambiguously: it
// has no coding; a member is not a transfer-coding (token *( OWS ";" OWS
// token BWS "=" BWS ( token / quoted-string ) ), RFC 9112 §7); chunked
// carries parameters (it defines none, §7.1); or chunked is listed more
// than once ("A sender MUST NOT apply the chunked transfer coding more than
// once to a message body", §6.1).
func finalCoding(lines []string) (string, bool) {
	final, chunked := "", false
	for el := range httplex.ElementsOf(lines) {
		name, params := el, ""
		if i := strings.IndexByte(el, ';'); i >= 0 {
			name, params = httplex.TrimOWS(el[:i]), el[i:]
		}
		if !httplex.IsToken(name) || !validParams(params) {
			return "", false
		}
		name = strings.ToLower(name)
		if name == "chunked" {
			if chunked || params != "" {
				return "", false
			}
			chunked = true
		}
		final = name
	}
	return final, final != ""
}

// validParams reports whether s, what follows a coding name, is
// *( OWS ";" OWS transfer-parameter ) (RFC 9112 §7), with
// transfer-parameter = token BWS "=" BWS ( token / quoted-string ).
func validParams(s string) bool {
	if s = httplex.TrimOWS(s); s == "" {
		return true
	}
	if s[0] != ';' {
		return false
	}
	for s = s[1:]; ; {
		p, rest, more := httplex.Cut(s, ';')
		k, v, ok := httplex.Cut(p, '=')
		k, v = httplex.TrimOWS(k), httplex.TrimOWS(v)
		if !ok || !httplex.IsToken(k) || !httplex.IsToken(v) && httplex.QuotedLen(v) != len(v) {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}
