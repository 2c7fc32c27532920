// RFC 9111 §5.2.2: Cache-Control response directives, with
// stale-while-revalidate and stale-if-error (RFC 5861) and immutable
// (RFC 8246).

package cachecontrol

import (
	"iter"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/notmod/notmod/internal/httplex"
)

// Bits of Response.bits and Request.bits beyond the directives' own
// presence bits (see directive.bit).
const (
	bitNoCacheQualified uint32 = 1 << (24 + iota) // a qualified no-cache (§5.2.2.4)
	bitPrivateQualified                           // a qualified private (§5.2.2.7)
	bitExtensions                                 // an unrecognised directive (§5.2.3)
	bitMaxStaleAny                                // max-stale without argument (§5.2.1.2)
)

// Response holds the cache directives of a response's Cache-Control field
// (RFC 9111 §5.2.2) or of a targeted field such as CDN-Cache-Control
// (RFC 9213). Make one with [ParseResponse] or [ParseTargeted]; the zero
// Response has no directives.
//
// A Response is a small value. It keeps a reference to the field lines it
// was parsed from and reads them again, lazily, for the field names of
// qualified no-cache and private and for extension directives: the caller
// must not modify those strings' slice while the Response is in use. Its
// methods are safe for concurrent use.
type Response struct {
	lines   []string            // the Cache-Control field lines, for lazy scans
	dict    *httpsfv.Dictionary // the parsed targeted field, from ParseTargeted
	maxAge  uint32              // seconds; valid when dirMaxAge is set
	sMaxAge uint32
	swr     uint32
	sie     uint32
	bits    uint32 // presence bits: directive.bit() and bit* constants
	defects Defect
}

// ParseResponse parses the field lines of a response's Cache-Control header
// field, as found in http.Header["Cache-Control"], into a [Response]. The
// lines are combined as one comma-separated list (RFC 9110 §5.3) and split
// with the quoted-string aware lexer of RFC 9110 §5.6.1; empty elements are
// ignored. It never fails: what it could not understand is recorded in
// [Response.Defects].
//
// Directive names are compared case-insensitively (§5.2). Arguments are
// accepted in token and quoted-string form alike (§5.2), so max-age="60" is
// max-age=60. The rules where the RFCs leave room are:
//
//   - Whitespace around "=" (max-age =60, max-age= 60) is outside the
//     grammar. The directive is still recognised but its argument counts as
//     invalid, so the outcome is always the more cautious one: an invalid
//     delta-seconds, or an unqualified no-cache/private.
//   - A delta-seconds argument (max-age, s-maxage, stale-while-revalidate,
//     stale-if-error) must be 1*DIGIT (§1.2.2); leading zeros are fine and
//     values above 2^31 become [MaxDelta]. A missing or invalid one
//     (max-age, max-age=-1, max-age=1.5, max-age='60', max-age=) makes the
//     directive present with a zero duration: §4.2.1 encourages caches to
//     treat invalid freshness information as stale, and zero freshness or
//     zero stale time does exactly that.
//   - A directive that takes an argument and occurs more than once keeps its
//     first occurrence (§4.2.1); the others are ignored and, when their
//     values differ, [DefectConflict] is recorded so that a cache preferring
//     "consider it stale" can do so.
//   - A no-cache or private argument must be a non-empty list of field
//     names, as a quoted-string or a single token (§5.2.2.4, §5.2.2.7).
//     Anything else makes it the unqualified, more restrictive form.
//     Several qualified occurrences add up.
//   - A directive defined without an argument that carries one still takes
//     effect when it only restricts caching (no-store, must-revalidate,
//     proxy-revalidate, no-transform) or when its definition says to ignore
//     arguments (immutable, RFC 8246 §2); public and must-understand, which
//     widen what a cache may do, are ignored instead.
//   - Directives unknown here, including request-only ones, are extensions
//     (§5.2.3): ignored by the typed accessors, kept for [Response.Extensions].
//
// ParseResponse does not allocate: the Response refers to lines.
func ParseResponse(lines []string) Response {
	r := Response{lines: lines}
	for _, line := range lines {
		for s := line; s != ""; {
			var e string
			e, s = httplex.Next(s)
			if e != "" {
				r.add(e)
			}
		}
	}
	return r
}

// add records the list element e of a Cache-Control field.
func (r *Response) add(e string) {
	el, ok := parseElement(e)
	if !ok {
		r.defects |= DefectSyntax
		return
	}
	if !el.argOK() {
		r.defects |= DefectSyntax
	}
	switch d := lookup(el.name); d {
	case dirMaxAge:
		r.setDelta(d, &r.maxAge, el)
	case dirSMaxAge:
		r.setDelta(d, &r.sMaxAge, el)
	case dirStaleWhileRevalidate:
		r.setDelta(d, &r.swr, el)
	case dirStaleIfError:
		r.setDelta(d, &r.sie, el)
	case dirNoCache:
		r.setQualified(d, bitNoCacheQualified, el)
	case dirPrivate:
		r.setQualified(d, bitPrivateQualified, el)
	case dirNoStore, dirMustRevalidate, dirProxyRevalidate, dirNoTransform, dirImmutable:
		if el.hasArg {
			r.defects |= DefectArgument
		}
		r.bits |= d.bit()
	case dirPublic, dirMustUnderstand:
		if el.hasArg {
			r.defects |= DefectArgument
			return
		}
		r.bits |= d.bit()
	default:
		if el.argOK() {
			r.bits |= bitExtensions
		}
	}
}

// setDelta records a delta-seconds directive d into *dst: the first
// occurrence wins and an invalid argument counts as zero.
func (r *Response) setDelta(d directive, dst *uint32, el element) {
	n, ok := el.delta()
	if !ok {
		r.defects |= DefectArgument
	}
	r.bits, *dst, r.defects = setDelta(r.bits, *dst, r.defects, d, n)
}

// setDelta is the occurrence rule shared by Response and Request: it
// returns the updated presence bits, value and defects after an occurrence
// of d with value n.
func setDelta(bits, cur uint32, defects Defect, d directive, n uint32) (uint32, uint32, Defect) {
	if bits&d.bit() != 0 {
		if cur != n {
			defects |= DefectConflict
		}
		return bits, cur, defects
	}
	return bits | d.bit(), n, defects
}

// setQualified records no-cache or private: unqualified sets d's own bit,
// a valid field list sets q, an invalid one falls back to unqualified.
func (r *Response) setQualified(d directive, q uint32, el element) {
	switch {
	case !el.hasArg:
		r.bits |= d.bit()
	case el.argOK() && fieldList(el.arg):
		r.bits |= q
	default:
		r.defects |= DefectArgument
		r.bits |= d.bit()
	}
}

// isResponse reports whether d is a response directive this package
// interprets; every other directive is an extension to a Response.
func isResponse(d directive) bool {
	switch d {
	case dirMaxAge, dirSMaxAge, dirStaleWhileRevalidate, dirStaleIfError,
		dirNoCache, dirPrivate, dirNoStore, dirMustRevalidate, dirProxyRevalidate,
		dirNoTransform, dirImmutable, dirPublic, dirMustUnderstand:
		return true
	}
	return false
}

// has reports whether directive d is present.
func (r Response) has(d directive) bool { return r.bits&d.bit() != 0 }

// MaxAge returns the max-age directive's value (RFC 9111 §5.2.2.1) and
// whether it is present. An invalid value is reported present with zero, so
// that the response is stale (§4.2.1).
func (r Response) MaxAge() (time.Duration, bool) { return seconds(r.maxAge), r.has(dirMaxAge) }

// SMaxAge returns the s-maxage directive's value (RFC 9111 §5.2.2.10) and
// whether it is present; a shared cache uses it instead of max-age and
// Expires. An invalid value is reported present with zero. s-maxage also
// carries the semantics of proxy-revalidate for a shared cache, and permits
// a shared cache to reuse a response to a request with Authorization
// (§3.5): a cache that wants to grant that only on a well-formed s-maxage
// can check [Response.Defects] for [DefectArgument].
func (r Response) SMaxAge() (time.Duration, bool) { return seconds(r.sMaxAge), r.has(dirSMaxAge) }

// StaleWhileRevalidate returns the stale-while-revalidate directive's value
// (RFC 5861 §3) and whether it is present. An invalid value is reported
// present with zero: no stale serving.
func (r Response) StaleWhileRevalidate() (time.Duration, bool) {
	return seconds(r.swr), r.has(dirStaleWhileRevalidate)
}

// StaleIfError returns the stale-if-error directive's value (RFC 5861 §4)
// and whether it is present. An invalid value is reported present with
// zero: no stale serving.
func (r Response) StaleIfError() (time.Duration, bool) {
	return seconds(r.sie), r.has(dirStaleIfError)
}

// NoCache reports whether the unqualified no-cache directive is present
// (RFC 9111 §5.2.2.4): the response must not be reused without successful
// validation. A no-cache whose argument is not a valid field list counts as
// unqualified. A qualified no-cache alone does not make NoCache true; see
// [Response.NoCacheQualified].
func (r Response) NoCache() bool { return r.has(dirNoCache) }

// NoCacheQualified reports whether a qualified no-cache directive, with a
// list of field names, is present (RFC 9111 §5.2.2.4): the response may be
// reused without validation if the fields [Response.NoCacheFields] yields
// are left out. It is independent of [Response.NoCache], which a cache
// checks first.
func (r Response) NoCacheQualified() bool { return r.bits&bitNoCacheQualified != 0 }

// NoCacheFields yields the field names listed by every qualified no-cache
// directive (RFC 9111 §5.2.2.4), in order, as received; field names are
// case-insensitive and may repeat. It yields nothing when
// [Response.NoCacheQualified] is false.
func (r Response) NoCacheFields() iter.Seq[string] {
	if !r.NoCacheQualified() {
		return func(func(string) bool) {}
	}
	if r.dict != nil {
		return dictFields(r.dict, dirNoCache)
	}
	return fieldsOf(r.lines, dirNoCache)
}

// Private reports whether the unqualified private directive is present
// (RFC 9111 §5.2.2.7): a shared cache must not store the response. A
// private whose argument is not a valid field list counts as unqualified.
func (r Response) Private() bool { return r.has(dirPrivate) }

// PrivateQualified reports whether a qualified private directive, with a
// list of field names, is present (RFC 9111 §5.2.2.7): a shared cache may
// store the response without the fields [Response.PrivateFields] yields. It
// is independent of [Response.Private], which a cache checks first.
func (r Response) PrivateQualified() bool { return r.bits&bitPrivateQualified != 0 }

// PrivateFields yields the field names listed by every qualified private
// directive (RFC 9111 §5.2.2.7), in order, as received; field names are
// case-insensitive and may repeat. It yields nothing when
// [Response.PrivateQualified] is false.
func (r Response) PrivateFields() iter.Seq[string] {
	if !r.PrivateQualified() {
		return func(func(string) bool) {}
	}
	if r.dict != nil {
		return dictFields(r.dict, dirPrivate)
	}
	return fieldsOf(r.lines, dirPrivate)
}

// NoStore reports whether the no-store directive is present
// (RFC 9111 §5.2.2.5).
func (r Response) NoStore() bool { return r.has(dirNoStore) }

// Public reports whether the public directive is present
// (RFC 9111 §5.2.2.9). A public carrying an argument is ignored.
func (r Response) Public() bool { return r.has(dirPublic) }

// MustRevalidate reports whether the must-revalidate directive is present
// (RFC 9111 §5.2.2.2).
func (r Response) MustRevalidate() bool { return r.has(dirMustRevalidate) }

// ProxyRevalidate reports whether the proxy-revalidate directive is present
// (RFC 9111 §5.2.2.8). It does not report the proxy-revalidate semantics
// that s-maxage implies (§5.2.2.10); see [Response.SMaxAge].
func (r Response) ProxyRevalidate() bool { return r.has(dirProxyRevalidate) }

// MustUnderstand reports whether the must-understand directive is present
// (RFC 9111 §5.2.2.3). A must-understand carrying an argument is ignored.
func (r Response) MustUnderstand() bool { return r.has(dirMustUnderstand) }

// NoTransform reports whether the no-transform directive is present
// (RFC 9111 §5.2.2.6).
func (r Response) NoTransform() bool { return r.has(dirNoTransform) }

// Immutable reports whether the immutable directive is present
// (RFC 8246 §2).
func (r Response) Immutable() bool { return r.has(dirImmutable) }

// Defects reports how the field value departed from its grammar; zero when
// it was well formed.
func (r Response) Defects() Defect { return r.defects }

// Extensions yields the name and argument of every well-formed directive
// not interpreted by Response (RFC 9111 §5.2.3), in order, including
// duplicates. Names are as received (compare them with a case-insensitive
// comparison); the argument has its quoting removed and is "" when there is
// none. For a targeted field, values that are not strings or tokens are
// given in their Structured Field serialisation (integer 5 as "5", false as
// "?0").
func (r Response) Extensions() iter.Seq2[string, string] {
	if r.bits&bitExtensions == 0 {
		return func(func(string, string) bool) {}
	}
	if r.dict != nil {
		return dictExtensions(r.dict)
	}
	return extensionsOf(r.lines, isResponse)
}

// Extension returns the argument of the first extension directive named
// name, compared case-insensitively, and whether there is one (see
// [Response.Extensions]). It reports false for the directives Response
// interprets.
func (r Response) Extension(name string) (string, bool) {
	if r.bits&bitExtensions == 0 {
		return "", false
	}
	if r.dict != nil {
		return dictExtension(r.dict, name)
	}
	return extensionOf(r.lines, isResponse, name)
}

// String returns the directives as a Cache-Control field value in a fixed
// order: the interpreted directives with their effective values (an invalid
// max-age shows as max-age=0, a duplicate once), then the extensions as
// received.
func (r Response) String() string {
	var b []byte
	for _, d := range [...]directive{dirPublic, dirPrivate, dirNoCache, dirNoStore} {
		if r.has(d) {
			b = appendDirective(b, d.String(), "")
		}
	}
	if !r.Private() {
		b = appendFields(b, dirPrivate.String(), r.PrivateFields())
	}
	if !r.NoCache() {
		b = appendFields(b, dirNoCache.String(), r.NoCacheFields())
	}
	for _, v := range [...]struct {
		d directive
		n uint32
	}{{dirMaxAge, r.maxAge}, {dirSMaxAge, r.sMaxAge}} {
		if r.has(v.d) {
			b = appendDelta(b, v.d.String(), v.n)
		}
	}
	for _, d := range [...]directive{dirMustRevalidate, dirProxyRevalidate, dirMustUnderstand, dirNoTransform, dirImmutable} {
		if r.has(d) {
			b = appendDirective(b, d.String(), "")
		}
	}
	for _, v := range [...]struct {
		d directive
		n uint32
	}{{dirStaleWhileRevalidate, r.swr}, {dirStaleIfError, r.sie}} {
		if r.has(v.d) {
			b = appendDelta(b, v.d.String(), v.n)
		}
	}
	for name, value := range r.Extensions() {
		b = appendDirective(b, name, value)
	}
	return string(b)
}
