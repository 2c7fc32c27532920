// RFC 9110 §5.6: common rules for defining field values.

package httplex

import "iter"

// IsOWS reports whether c is optional whitespace: SP or HTAB (RFC 9110 §5.6.3).
func IsOWS(c byte) bool { return c == ' ' || c == '\t' }

// TrimOWS removes leading and trailing optional whitespace (RFC 9110 §5.6.3).
func TrimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && IsOWS(s[i]) {
		i++
	}
	for j > i && IsOWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

// tchar lists the bytes allowed in a token (RFC 9110 §5.6.2).
var tchar = [256]bool{
	'!': true, '#': true, '$': true, '%': true, '&': true, '\'': true, '*': true,
	'+': true, '-': true, '.': true, '^': true, '_': true, '`': true, '|': true, '~': true,
}

func init() {
	for c := '0'; c <= '9'; c++ {
		tchar[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		tchar[c] = true
		tchar[c-'a'+'A'] = true
	}
}

// IsTokenChar reports whether c may appear in a token (RFC 9110 §5.6.2).
func IsTokenChar(c byte) bool { return tchar[c] }

// IsToken reports whether s is a non-empty token (RFC 9110 §5.6.2).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return false
		}
	}
	return true
}

// isQDText reports whether c is qdtext: HTAB, SP, %x21, %x23-5B, %x5D-7E or
// obs-text (RFC 9110 §5.6.4).
func isQDText(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) || c >= 0x80
}

// isQuotedPairChar reports whether c may follow a backslash in a quoted-pair
// (RFC 9110 §5.6.4).
func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7E) || c >= 0x80
}

// QuotedLen returns the length of the quoted-string at the start of s,
// including both DQUOTEs, or -1 when s does not start with a complete,
// well-formed quoted-string (RFC 9110 §5.6.4).
func QuotedLen(s string) int {
	if len(s) == 0 || s[0] != '"' {
		return -1
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(s) || !isQuotedPairChar(s[i+1]) {
				return -1
			}
			i++
		case !isQDText(c):
			return -1
		}
	}
	return -1
}

// Unquote returns the content of the quoted-string s with quoted-pairs
// resolved. It reports false when s is not exactly one well-formed
// quoted-string (RFC 9110 §5.6.4). It allocates only when s holds a
// quoted-pair.
func Unquote(s string) (string, bool) {
	if QuotedLen(s) != len(s) {
		return "", false
	}
	inner := s[1 : len(s)-1]
	esc := false
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' {
			esc = true
			break
		}
	}
	if !esc {
		return inner, true
	}
	b := make([]byte, 0, len(inner))
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' {
			i++
		}
		b = append(b, inner[i])
	}
	return string(b), true
}

// Quote returns s as a quoted-string, escaping DQUOTE and backslash
// (RFC 9110 §5.6.4).
func Quote(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			n++
		}
	}
	b := make([]byte, 0, len(s)+n+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}

// Next splits the first element off the comma-separated list s
// (RFC 9110 §5.6.1). It returns the element with surrounding OWS removed and
// the rest of the list after the comma. Commas inside quoted strings do not
// split; an unterminated quoted string runs to the end of s. Empty elements
// are returned as "" so callers can skip them, as recipients must
// (RFC 9110 §5.6.1).
func Next(s string) (elem, rest string) {
	i := 0
	for i < len(s) {
		switch s[i] {
		case ',':
			return TrimOWS(s[:i]), s[i+1:]
		case '"':
			n := skipQuoted(s[i:])
			i += n
			continue
		}
		i++
	}
	return TrimOWS(s), ""
}

// skipQuoted returns how many bytes of s, which starts with DQUOTE, belong to
// the quoted string, tolerating malformed content: it stops after the closing
// DQUOTE or at the end of s.
func skipQuoted(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// Elements yields the non-empty elements of the comma-separated list s, each
// with surrounding OWS removed (RFC 9110 §5.6.1).
func Elements(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for s != "" {
			var e string
			e, s = Next(s)
			if e != "" && !yield(e) {
				return
			}
		}
	}
}

// ElementsOf yields the non-empty elements of every field line in lines, in
// order, as if the lines had been joined with commas (RFC 9110 §5.3).
func ElementsOf(lines []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, s := range lines {
			for s != "" {
				var e string
				e, s = Next(s)
				if e != "" && !yield(e) {
					return
				}
			}
		}
	}
}

// Cut splits s at the first occurrence of sep that is not inside a quoted
// string. It reports whether sep was found.
func Cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case sep:
			return s[:i], s[i+1:], true
		case '"':
			i += skipQuoted(s[i:]) - 1
		}
	}
	return s, "", false
}

// EqualFold reports whether the ASCII strings a and b are equal ignoring
// ASCII case, as field names and most tokens are compared.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
