// RFC 9110 §8.8.3: entity tags, their syntax and comparison.

package precond

import (
	"encoding/hex"
	"io"
	"iter"

	"github.com/notmod/notmod/internal/httplex"

	"github.com/cespare/xxhash/v2"
)

// ETag is an entity tag in its field-value form: a quoted opaque tag,
// optionally preceded by the weakness indicator, such as `"xyzzy"` or
// `W/"xyzzy"` (RFC 9110 §8.8.3). The zero value "" means no entity tag.
// Values made by [ParseETag], [StrongETag], [WeakETag] and [ContentETag]
// are always well formed.
type ETag string

// Weak reports whether t carries the weakness indicator W/ (§8.8.3).
func (t ETag) Weak() bool { return len(t) >= 2 && t[0] == 'W' && t[1] == '/' }

// opaque returns the quoted opaque-tag of t, without the weakness
// indicator.
func (t ETag) opaque() string {
	if t.Weak() {
		return string(t[2:])
	}
	return string(t)
}

// Opaque returns the opaque tag of t without its quotes.
func (t ETag) Opaque() string {
	o := t.opaque()
	if len(o) < 2 {
		return ""
	}
	return o[1 : len(o)-1]
}

// StrongMatch reports whether t and u match by the strong comparison
// function: both are strong and their opaque tags are identical
// (RFC 9110 §8.8.3.2). An absent tag matches nothing.
func (t ETag) StrongMatch(u ETag) bool {
	return t != "" && !t.Weak() && t == u
}

// WeakMatch reports whether t and u match by the weak comparison
// function: their opaque tags are identical, whether either is weak or not
// (RFC 9110 §8.8.3.2). An absent tag matches nothing.
func (t ETag) WeakMatch(u ETag) bool {
	return t != "" && u != "" && t.opaque() == u.opaque()
}

// isETagChar reports whether c is an etagc: %x21 / %x23-7E / obs-text
// (RFC 9110 §8.8.3). Unlike a quoted-string, an opaque tag has no escapes:
// a backslash is an ordinary character.
func isETagChar(c byte) bool { return c == 0x21 || (c >= 0x23 && c <= 0x7E) || c >= 0x80 }

// scanETag reads one entity-tag at the start of s and returns it and the
// rest of s. ok is false when s does not start with a well-formed tag.
func scanETag(s string) (tag ETag, rest string, ok bool) {
	i := 0
	if len(s) >= 2 && s[0] == 'W' && s[1] == '/' {
		i = 2
	}
	if i >= len(s) || s[i] != '"' {
		return "", s, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return ETag(s[:j+1]), s[j+1:], true
		case !isETagChar(c):
			return "", s, false
		}
	}
	return "", s, false
}

// ParseETag parses a single entity tag such as an ETag field value
// (RFC 9110 §8.8.3), allowing surrounding whitespace. It reports false for
// anything else: an unquoted value, a list, a lone `*`.
func ParseETag(s string) (ETag, bool) {
	s = httplex.TrimOWS(s)
	t, rest, ok := scanETag(s)
	if !ok || rest != "" {
		return "", false
	}
	return t, true
}

// StrongETag returns the strong entity tag with the given opaque tag. It
// reports false when opaque holds a character an entity tag cannot carry
// (RFC 9110 §8.8.3).
func StrongETag(opaque string) (ETag, bool) {
	for i := 0; i < len(opaque); i++ {
		if !isETagChar(opaque[i]) {
			return "", false
		}
	}
	return ETag(`"` + opaque + `"`), true
}

// WeakETag is like [StrongETag] but returns a weak tag.
func WeakETag(opaque string) (ETag, bool) {
	t, ok := StrongETag(opaque)
	if !ok {
		return "", false
	}
	return "W/" + t, true
}

// ContentETag returns a strong entity tag derived from the bytes of a
// representation: 16 hexadecimal digits of its 64-bit xxHash. Two
// representations with different bytes (including two content codings of
// the same data) get different tags with overwhelming probability, which is
// what a strong validator promises (RFC 9110 §8.8.1, §8.8.3.1).
func ContentETag(content []byte) ETag {
	return etagFromSum(xxhash.Sum64(content))
}

// ReaderETag is like [ContentETag] for content read from r, so a large
// file need not be held in memory to be tagged.
func ReaderETag(r io.Reader) (ETag, error) {
	d := xxhash.New()
	if _, err := io.Copy(d, r); err != nil {
		return "", err
	}
	return etagFromSum(d.Sum64()), nil
}

// etagFromSum formats a 64-bit digest as a strong entity tag.
func etagFromSum(sum uint64) ETag {
	var raw [8]byte
	for i := range raw {
		raw[i] = byte(sum >> (56 - 8*i))
	}
	var b [18]byte
	b[0] = '"'
	hex.Encode(b[1:17], raw[:])
	b[17] = '"'
	return ETag(b[:])
}

// ETagList is the field value of If-Match or If-None-Match: either `*` or
// a comma-separated list of entity tags (RFC 9110 §13.1.1, §13.1.2). Its
// methods scan the field lines on each call and allocate nothing.
type ETagList []string

// Any reports whether the list is exactly `*`, alone.
func (l ETagList) Any() bool {
	seen := false
	for _, line := range l {
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == ' ' || c == '\t' || c == ',':
			case c == '*' && !seen:
				seen = true
			default:
				return false
			}
		}
	}
	return seen
}

// Valid reports whether the list is well formed: `*` alone, or one or more
// entity tags separated by commas and optional whitespace.
func (l ETagList) Valid() bool {
	if l.Any() {
		return true
	}
	n := 0
	for _, line := range l {
		for {
			_, rest, st := nextTag(line)
			if st == listMalformed {
				return false
			}
			if st == listEnd {
				break
			}
			n++
			line = rest
		}
	}
	return n > 0
}

// All yields the entity tags of the list in order. A malformed list yields
// the tags before the first error only; use [ETagList.Valid] to tell.
func (l ETagList) All() iter.Seq[ETag] {
	return func(yield func(ETag) bool) {
		for _, line := range l {
			for {
				t, rest, st := nextTag(line)
				if st != listTag {
					break
				}
				if !yield(t) {
					return
				}
				line = rest
			}
		}
	}
}

// listStatus says what [nextTag] found.
type listStatus uint8

const (
	listTag       listStatus = iota // an entity tag
	listEnd                         // nothing but separators
	listMalformed                   // something that is not a list of tags
)

// nextTag scans the first entity tag of the list s and returns it with the
// rest of s. Empty list elements are skipped (RFC 9110 §5.6.1).
func nextTag(s string) (ETag, string, listStatus) {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == ',') {
		s = s[1:]
	}
	if s == "" {
		return "", "", listEnd
	}
	t, rest, ok := scanETag(s)
	if !ok {
		return "", "", listMalformed
	}
	rest = trimLeftOWS(rest)
	if rest != "" && rest[0] != ',' {
		return "", "", listMalformed
	}
	return t, rest, listTag
}

// Match reports whether any tag of the list matches current, using the
// strong comparison when strong is true and the weak one otherwise
// (RFC 9110 §8.8.3.2). A list that is `*`, empty or malformed matches
// nothing here: test [ETagList.Any] first.
func (l ETagList) Match(current ETag, strong bool) bool {
	if current == "" {
		return false
	}
	found := false
	for _, line := range l {
		for {
			t, rest, st := nextTag(line)
			if st == listMalformed {
				return false
			}
			if st == listEnd {
				break
			}
			if strong && t.StrongMatch(current) || !strong && t.WeakMatch(current) {
				found = true
			}
			line = rest
		}
	}
	return found
}

func trimLeftOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}
