// RFC 9111 §5.2.1: Cache-Control request directives, with stale-if-error
// (RFC 5861 §4).

package cachecontrol

import (
	"iter"
	"time"

	"github.com/notmod/notmod/internal/httplex"
)

// Request holds the cache directives of a request's Cache-Control field
// (RFC 9111 §5.2.1). Make one with [ParseRequest]; the zero Request has no
// directives. Request directives are advisory: a cache MAY honour them.
//
// Like [Response], a Request is a small value that keeps a reference to the
// field lines it was parsed from, for [Request.Extensions]; the caller must
// not modify them while the Request is in use. Its methods are safe for
// concurrent use.
type Request struct {
	lines    []string
	maxAge   uint32 // seconds; valid when dirMaxAge is set
	maxStale uint32
	minFresh uint32
	sie      uint32
	bits     uint32 // presence bits: directive.bit() and bit* constants
	defects  Defect
}

// ParseRequest parses the field lines of a request's Cache-Control header
// field, as found in http.Header["Cache-Control"], into a [Request], with
// the same lexing and the same rules as [ParseResponse]: names compared
// case-insensitively, token and quoted-string arguments alike, whitespace
// around "=" making the argument invalid, an invalid delta-seconds present
// with zero, values above 2^31 seconds clamped to [MaxDelta], the first of
// duplicate directives used.
//
// For a request this means: an invalid max-age asks for a response no older
// than zero seconds (the cautious reading: revalidate); an invalid
// max-stale or min-fresh is zero, which accepts no staleness and asks for
// no extra freshness. max-stale without an argument accepts any staleness
// and reports [MaxDelta] (see [Request.MaxStaleAny]). no-cache, no-store,
// no-transform and only-if-cached take effect even with an argument, which
// they do not define. Directives unknown here, including response-only
// ones, are extensions (§5.2.3).
//
// ParseRequest does not allocate: the Request refers to lines.
func ParseRequest(lines []string) Request {
	r := Request{lines: lines}
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
func (r *Request) add(e string) {
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
	case dirMinFresh:
		r.setDelta(d, &r.minFresh, el)
	case dirStaleIfError:
		r.setDelta(d, &r.sie, el)
	case dirMaxStale:
		if !el.hasArg {
			if !r.has(d) {
				r.bits |= bitMaxStaleAny
			}
			r.bits, r.maxStale, r.defects = setDelta(r.bits, r.maxStale, r.defects, d, maxDeltaSeconds)
			return
		}
		r.setDelta(d, &r.maxStale, el)
	case dirNoCache, dirNoStore, dirNoTransform, dirOnlyIfCached:
		if el.hasArg {
			r.defects |= DefectArgument
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
func (r *Request) setDelta(d directive, dst *uint32, el element) {
	n, ok := el.delta()
	if !ok {
		r.defects |= DefectArgument
	}
	r.bits, *dst, r.defects = setDelta(r.bits, *dst, r.defects, d, n)
}

// isRequest reports whether d is a request directive this package
// interprets; every other directive is an extension to a Request.
func isRequest(d directive) bool {
	switch d {
	case dirMaxAge, dirMaxStale, dirMinFresh, dirStaleIfError,
		dirNoCache, dirNoStore, dirNoTransform, dirOnlyIfCached:
		return true
	}
	return false
}

// has reports whether directive d is present.
func (r Request) has(d directive) bool { return r.bits&d.bit() != 0 }

// MaxAge returns the max-age request directive's value (RFC 9111 §5.2.1.1)
// and whether it is present: the client prefers a response no older than
// that. An invalid value is reported present with zero.
func (r Request) MaxAge() (time.Duration, bool) { return seconds(r.maxAge), r.has(dirMaxAge) }

// MaxStale returns the max-stale request directive's value
// (RFC 9111 §5.2.1.2) and whether it is present: the client accepts a
// response stale by no more than that. Without an argument the client
// accepts any staleness, and MaxStale returns [MaxDelta] (see
// [Request.MaxStaleAny]). An invalid value is reported present with zero.
func (r Request) MaxStale() (time.Duration, bool) {
	return seconds(r.maxStale), r.has(dirMaxStale)
}

// MaxStaleAny reports whether the first max-stale request directive has no
// argument: the client accepts a stale response of any age
// (RFC 9111 §5.2.1.2).
func (r Request) MaxStaleAny() bool { return r.bits&bitMaxStaleAny != 0 }

// MinFresh returns the min-fresh request directive's value
// (RFC 9111 §5.2.1.3) and whether it is present: the client wants a
// response that stays fresh at least that much longer. An invalid value is
// reported present with zero.
func (r Request) MinFresh() (time.Duration, bool) {
	return seconds(r.minFresh), r.has(dirMinFresh)
}

// StaleIfError returns the stale-if-error request directive's value
// (RFC 5861 §4) and whether it is present. An invalid value is reported
// present with zero.
func (r Request) StaleIfError() (time.Duration, bool) {
	return seconds(r.sie), r.has(dirStaleIfError)
}

// NoCache reports whether the no-cache request directive is present
// (RFC 9111 §5.2.1.4): the client prefers no stored response be used
// without successful validation.
func (r Request) NoCache() bool { return r.has(dirNoCache) }

// NoStore reports whether the no-store request directive is present
// (RFC 9111 §5.2.1.5).
func (r Request) NoStore() bool { return r.has(dirNoStore) }

// NoTransform reports whether the no-transform request directive is present
// (RFC 9111 §5.2.1.6).
func (r Request) NoTransform() bool { return r.has(dirNoTransform) }

// OnlyIfCached reports whether the only-if-cached request directive is
// present (RFC 9111 §5.2.1.7): answer from the cache or with 504.
func (r Request) OnlyIfCached() bool { return r.has(dirOnlyIfCached) }

// Defects reports how the field value departed from its grammar; zero when
// it was well formed.
func (r Request) Defects() Defect { return r.defects }

// Extensions yields the name and argument of every well-formed directive
// not interpreted by Request (RFC 9111 §5.2.3), in order, including
// duplicates, as [Response.Extensions] does.
func (r Request) Extensions() iter.Seq2[string, string] {
	if r.bits&bitExtensions == 0 {
		return func(func(string, string) bool) {}
	}
	return extensionsOf(r.lines, isRequest)
}

// Extension returns the argument of the first extension directive named
// name, compared case-insensitively, and whether there is one. It reports
// false for the directives Request interprets.
func (r Request) Extension(name string) (string, bool) {
	if r.bits&bitExtensions == 0 {
		return "", false
	}
	return extensionOf(r.lines, isRequest, name)
}

// String returns the directives as a Cache-Control field value in a fixed
// order: the interpreted directives with their effective values, then the
// extensions as received.
func (r Request) String() string {
	var b []byte
	for _, d := range [...]directive{dirNoCache, dirNoStore} {
		if r.has(d) {
			b = appendDirective(b, d.String(), "")
		}
	}
	if r.has(dirMaxAge) {
		b = appendDelta(b, dirMaxAge.String(), r.maxAge)
	}
	if r.MaxStaleAny() {
		b = appendDirective(b, dirMaxStale.String(), "")
	} else if r.has(dirMaxStale) {
		b = appendDelta(b, dirMaxStale.String(), r.maxStale)
	}
	if r.has(dirMinFresh) {
		b = appendDelta(b, dirMinFresh.String(), r.minFresh)
	}
	for _, d := range [...]directive{dirNoTransform, dirOnlyIfCached} {
		if r.has(d) {
			b = appendDirective(b, d.String(), "")
		}
	}
	if r.has(dirStaleIfError) {
		b = appendDelta(b, dirStaleIfError.String(), r.sie)
	}
	for name, value := range r.Extensions() {
		b = appendDirective(b, name, value)
	}
	return string(b)
}
