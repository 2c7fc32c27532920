// RFC 9111 §5.2: the cache-directive grammar, delta-seconds (§1.2.2) and
// the field-name lists of qualified no-cache and private (§5.2.2.4, §5.2.2.7).

package cachecontrol

import (
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/notmod/notmod/internal/httplex"
)

// MaxDelta is the largest duration a delta-seconds argument yields:
// 2147483648 (2^31) seconds, a little over 68 years. RFC 9111 §1.2.2 makes
// a cache treat any larger value as 2147483648, and the value stands for
// "forever"; adding it to a time.Time or to another MaxDelta never
// overflows a time.Duration.
const MaxDelta = maxDeltaSeconds * time.Second

// maxDeltaSeconds is MaxDelta in seconds (RFC 9111 §1.2.2).
const maxDeltaSeconds = 1 << 31

// Defect is a set of ways a field value departs from its grammar. The
// parsers never fail: they record what they met in a Defect and carry on,
// so that a cache can act on what was understood and an audit can report
// the rest. The zero Defect means the value was well formed.
type Defect uint8

const (
	// DefectSyntax marks a list element that is not a well-formed
	// cache-directive, token [ "=" ( token / quoted-string ) ]
	// (RFC 9111 §5.2): a name that is not a token (the element is
	// ignored), whitespace around "=", or an argument that is neither a
	// token nor one quoted-string.
	DefectSyntax Defect = 1 << iota
	// DefectArgument marks a known directive whose argument is invalid for
	// it: a delta-seconds that is not 1*DIGIT (RFC 9111 §1.2.2), a field
	// list that is not a list of field names, a missing argument where one
	// is required, or an argument on a directive that takes none.
	DefectArgument
	// DefectConflict marks a directive that takes an argument and occurs
	// more than once with different values; the first occurrence is used
	// (RFC 9111 §4.2.1).
	DefectConflict
)

// String lists the defects in d, separated by "|", or returns "none".
func (d Defect) String() string {
	if d == 0 {
		return "none"
	}
	var parts []string
	if d&DefectSyntax != 0 {
		parts = append(parts, "syntax")
	}
	if d&DefectArgument != 0 {
		parts = append(parts, "argument")
	}
	if d&DefectConflict != 0 {
		parts = append(parts, "conflict")
	}
	return strings.Join(parts, "|")
}

// directive identifies a cache directive this package knows, from RFC 9111
// §5.2.1 and §5.2.2, RFC 5861 and RFC 8246.
type directive uint8

const (
	dirUnknown directive = iota
	dirMaxAge
	dirMaxStale
	dirMinFresh
	dirNoCache
	dirNoStore
	dirNoTransform
	dirOnlyIfCached
	dirMustRevalidate
	dirMustUnderstand
	dirPrivate
	dirProxyRevalidate
	dirPublic
	dirSMaxAge
	dirStaleWhileRevalidate
	dirStaleIfError
	dirImmutable
	dirCount // number of directives, not a directive
)

// String returns the directive's name in lower case.
func (d directive) String() string {
	switch d {
	case dirMaxAge:
		return "max-age"
	case dirMaxStale:
		return "max-stale"
	case dirMinFresh:
		return "min-fresh"
	case dirNoCache:
		return "no-cache"
	case dirNoStore:
		return "no-store"
	case dirNoTransform:
		return "no-transform"
	case dirOnlyIfCached:
		return "only-if-cached"
	case dirMustRevalidate:
		return "must-revalidate"
	case dirMustUnderstand:
		return "must-understand"
	case dirPrivate:
		return "private"
	case dirProxyRevalidate:
		return "proxy-revalidate"
	case dirPublic:
		return "public"
	case dirSMaxAge:
		return "s-maxage"
	case dirStaleWhileRevalidate:
		return "stale-while-revalidate"
	case dirStaleIfError:
		return "stale-if-error"
	case dirImmutable:
		return "immutable"
	}
	return ""
}

// bit returns the presence bit of d in a Request's or Response's set.
func (d directive) bit() uint32 { return 1 << d }

// lookup returns the directive named name, compared case-insensitively
// (RFC 9111 §5.2), or dirUnknown. It picks the candidates by length first,
// so that a name is compared with at most three others.
func lookup(name string) directive {
	var c [3]directive
	switch len(name) {
	case 6:
		c = [3]directive{dirPublic}
	case 7:
		c = [3]directive{dirMaxAge, dirPrivate}
	case 8:
		c = [3]directive{dirNoCache, dirNoStore, dirSMaxAge}
	case 9:
		c = [3]directive{dirMaxStale, dirMinFresh, dirImmutable}
	case 12:
		c = [3]directive{dirNoTransform}
	case 14:
		c = [3]directive{dirOnlyIfCached, dirStaleIfError}
	case 15:
		c = [3]directive{dirMustRevalidate, dirMustUnderstand}
	case 16:
		c = [3]directive{dirProxyRevalidate}
	case 22:
		c = [3]directive{dirStaleWhileRevalidate}
	}
	for _, d := range c {
		if d != dirUnknown && httplex.EqualFold(name, d.String()) {
			return d
		}
	}
	return dirUnknown
}

// element is one cache-directive of a Cache-Control list (RFC 9111 §5.2),
// its parts still sub-slices of the field line.
type element struct {
	name   string // the directive name as received
	arg    string // the raw argument: a token or a quoted-string with its DQUOTEs
	hasArg bool   // "=" was present
	spaced bool   // whitespace stood around "="
}

// parseElement splits the list element e (already free of surrounding OWS)
// into name and argument. It reports false when the name is not a token:
// such an element is not a cache-directive at all.
func parseElement(e string) (element, bool) {
	name, arg, found := httplex.Cut(e, '=')
	el := element{name: httplex.TrimOWS(name), hasArg: found}
	el.spaced = len(el.name) != len(name)
	if !httplex.IsToken(el.name) {
		return el, false
	}
	if found {
		el.arg = httplex.TrimOWS(arg)
		el.spaced = el.spaced || len(el.arg) != len(arg)
	}
	return el, true
}

// argOK reports whether the element's argument, if any, has the form
// token / quoted-string with no whitespace around "=" (RFC 9111 §5.2).
func (el element) argOK() bool {
	if !el.hasArg {
		return true
	}
	return !el.spaced && (httplex.IsToken(el.arg) || httplex.QuotedLen(el.arg) == len(el.arg))
}

// value returns the element's argument with any quoting removed, or "" when
// there is none. It allocates only for a quoted-string holding a
// quoted-pair.
func (el element) value() string {
	if !el.hasArg || httplex.IsToken(el.arg) {
		return el.arg
	}
	v, _ := httplex.Unquote(el.arg)
	return v
}

// delta parses the element's argument as delta-seconds (RFC 9111 §1.2.2) in
// token or quoted-string form (§5.2: recipients accept both), clamping it
// at 2^31. It reports false for a missing or invalid argument: empty, a
// sign, a decimal point, any non-digit, or whitespace around "=".
func (el element) delta() (uint32, bool) {
	if !el.hasArg || el.spaced {
		return 0, false
	}
	s, quoted := el.arg, false
	if !httplex.IsToken(s) {
		if httplex.QuotedLen(s) != len(s) {
			return 0, false
		}
		s, quoted = s[1:len(s)-1], true
	}
	var n uint64
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quoted && c == '\\' {
			i++ // QuotedLen guarantees a character follows
			c = s[i]
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		digits++
		if n < maxDeltaSeconds {
			n = n*10 + uint64(c-'0')
		}
	}
	if digits == 0 {
		return 0, false
	}
	return uint32(min(n, maxDeltaSeconds)), true
}

// seconds converts a clamped delta-seconds count into a Duration.
func seconds(n uint32) time.Duration { return time.Duration(n) * time.Second }

// fieldList reports whether arg, the raw argument of a qualified no-cache
// or private, is a non-empty list of field names (RFC 9111 §5.2.2.4,
// §5.2.2.7): a token (the form recipients accept though senders SHOULD
// NOT generate it) or a quoted-string holding #field-name with at least one
// name. Quoted-pairs are resolved as in an unquoted string.
func fieldList(arg string) bool {
	if httplex.IsToken(arg) {
		return true
	}
	if len(arg) < 2 || httplex.QuotedLen(arg) != len(arg) {
		return false
	}
	return fieldNames(arg[1:len(arg)-1], true)
}

// fieldNames reports whether s is a #field-name list (RFC 9110 §5.6.1) with
// at least one name; with escaped set, a backslash quotes the next byte.
func fieldNames(s string, escaped bool) bool {
	n := 0
	inName, afterName := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if escaped && c == '\\' && i+1 < len(s) {
			i++
			c = s[i]
		}
		switch {
		case c == ',':
			inName, afterName = false, false
		case httplex.IsOWS(c):
			if inName {
				inName, afterName = false, true
			}
		case httplex.IsTokenChar(c):
			if afterName {
				return false
			}
			if !inName {
				inName = true
				n++
			}
		default:
			return false
		}
	}
	return n > 0
}

// yieldFields yields the field names of a valid qualified argument arg (see
// fieldList). It reports false when yield asked to stop.
func yieldFields(arg string, yield func(string) bool) bool {
	if httplex.IsToken(arg) {
		return yield(arg)
	}
	list, _ := httplex.Unquote(arg)
	for f := range httplex.Elements(list) {
		if !yield(f) {
			return false
		}
	}
	return true
}

// eachElement calls f for every well-formed cache-directive of lines, in
// order, as if the lines were one comma-separated list (RFC 9110 §5.3,
// §5.6.1); empty elements and elements whose name is not a token are
// skipped. It stops when f returns false and reports whether it ran to the
// end.
func eachElement(lines []string, f func(element) bool) bool {
	for _, s := range lines {
		for s != "" {
			var e string
			e, s = httplex.Next(s)
			if e == "" {
				continue
			}
			if el, ok := parseElement(e); ok && !f(el) {
				return false
			}
		}
	}
	return true
}

// fieldsOf yields the field names of every well-formed qualified d
// directive in lines (RFC 9111 §5.2.2.4, §5.2.2.7), in order.
func fieldsOf(lines []string, d directive) iter.Seq[string] {
	return func(yield func(string) bool) {
		eachElement(lines, func(el element) bool {
			if !el.hasArg || !el.argOK() || !fieldList(el.arg) || lookup(el.name) != d {
				return true
			}
			return yieldFields(el.arg, yield)
		})
	}
}

// extensionsOf yields the name and unquoted argument of every well-formed
// directive in lines that known does not recognise (RFC 9111 §5.2.3).
func extensionsOf(lines []string, known func(directive) bool) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		eachElement(lines, func(el element) bool {
			if !el.argOK() || known(lookup(el.name)) {
				return true
			}
			return yield(el.name, el.value())
		})
	}
}

// extensionOf returns the argument of the first extension directive named
// name (case-insensitively) in lines.
func extensionOf(lines []string, known func(directive) bool, name string) (value string, found bool) {
	if known(lookup(name)) {
		return "", false
	}
	eachElement(lines, func(el element) bool {
		if !httplex.EqualFold(el.name, name) || !el.argOK() {
			return true
		}
		value, found = el.value(), true
		return false
	})
	return value, found
}

// appendDirective appends ", name" or ", name=value" to b, quoting value
// when it is not a token (RFC 9111 §5.2); the separator is left out at the
// start of b.
func appendDirective(b []byte, name, value string) []byte {
	if len(b) > 0 {
		b = append(b, ", "...)
	}
	b = append(b, name...)
	if value == "" {
		return b
	}
	b = append(b, '=')
	if httplex.IsToken(value) {
		return append(b, value...)
	}
	return append(b, httplex.Quote(value)...)
}

// appendDelta appends ", name=N" for a delta-seconds directive.
func appendDelta(b []byte, name string, n uint32) []byte {
	if len(b) > 0 {
		b = append(b, ", "...)
	}
	b = append(b, name...)
	b = append(b, '=')
	return strconv.AppendUint(b, uint64(n), 10)
}

// appendFields appends name="f1, f2, ..." for the field names in fields
// (tokens, so never escaped), or nothing when fields yields none.
func appendFields(b []byte, name string, fields iter.Seq[string]) []byte {
	start := len(b)
	for f := range fields {
		if len(b) == start {
			if start > 0 {
				b = append(b, ", "...)
			}
			b = append(b, name...)
			b = append(b, '=', '"')
		} else {
			b = append(b, ", "...)
		}
		b = append(b, f...)
	}
	if len(b) == start {
		return b
	}
	return append(b, '"')
}
