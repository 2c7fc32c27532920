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
	for {
		s = trimLeftOWS(s)
		if s == "" {
			return true
		}
		if s[0] != ';' {
			return false
		}
		s = trimLeftOWS(s[1:])
		n := tokenLen(s)
		if n == 0 {
			return false
		}
		s = trimLeftOWS(s[n:])
		if s == "" || s[0] != '=' {
			return false
		}
		s = trimLeftOWS(s[1:])
		if n = tokenLen(s); n == 0 {
			n = httplex.QuotedLen(s)
		}
		if n <= 0 {
			return false
		}
		s = s[n:]
	}
}

// tokenLen returns the length of the token at the start of s, 0 if none
// (RFC 9110 §5.6.2).
func tokenLen(s string) int {
	i := 0
	for i < len(s) && httplex.IsTokenChar(s[i]) {
		i++
	}
	return i
}

func trimLeftOWS(s string) string {
	for s != "" && httplex.IsOWS(s[0]) {
		s = s[1:]
	}
	return s
}
