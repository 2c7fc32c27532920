// RFC 9213 §2: targeted cache-control fields such as CDN-Cache-Control,
// Structured Field Dictionaries (RFC 8941 §3.2) of response directives.

package cachecontrol

import (
	"iter"
	"strconv"

	"github.com/dunglas/httpsfv"
	"github.com/notmod/notmod/internal/httplex"
)

// ParseTargeted parses the field lines of a targeted cache-control field,
// such as CDN-Cache-Control (RFC 9213 §3), into a [Response]. It reports
// false when lines hold no valid, non-empty Structured Field Dictionary
// (RFC 9213 §2.1): the field is absent, empty, or fails to parse (an
// upper-case name, a trailing comma, a quoted-string the Dictionary grammar
// rejects, an integer of more than 15 digits). Then the cache must ignore
// the field and fall back to Cache-Control and Expires; when it reports true
// the cache must ignore those instead (§2.2).
//
// Members are mapped onto the directives of [ParseResponse] as §2.1
// describes; parameters are ignored. Duplicate names are resolved by the
// Dictionary grammar: the last one wins (RFC 8941 §3.2). Values that break
// the inferred constraints are not consumed as such (§2.1), with the same
// cautious outcomes as in Cache-Control, and are recorded in
// [Response.Defects] as [DefectArgument]:
//
//   - max-age, s-maxage, stale-while-revalidate and stale-if-error need a
//     non-negative Integer (clamped at [MaxDelta]); any other value (a
//     Decimal such as 1.5, a String, a Token, a bare name) makes the
//     directive present with zero, so the response is stale.
//   - no-cache and private are unqualified when true and qualified when a
//     String holding a non-empty list of field names; any other value makes
//     them unqualified.
//   - no-store, must-revalidate, proxy-revalidate, no-transform and
//     immutable take effect with any value but false (?0), which turns them
//     off; public and must-understand take effect only when true.
//
// ParseTargeted allocates: the Dictionary parser builds its own values.
func ParseTargeted(lines []string) (Response, bool) {
	if len(lines) == 0 {
		return Response{}, false
	}
	dict, err := httpsfv.UnmarshalDictionary(lines)
	if err != nil || len(dict.Names()) == 0 {
		return Response{}, false
	}
	r := Response{dict: dict}
	for _, name := range dict.Names() {
		m, _ := dict.Get(name)
		r.addMember(name, m)
	}
	return r, true
}

// Targeted reports whether r came from a targeted field ([ParseTargeted]):
// a cache that uses it must then ignore Cache-Control and Expires
// (RFC 9213 §2.2).
func (r Response) Targeted() bool { return r.dict != nil }

// bareValue returns the bare item of a Dictionary member, or nil for an
// Inner List.
func bareValue(m httpsfv.Member) any {
	if item, ok := m.(httpsfv.Item); ok {
		return item.Value
	}
	return nil
}

// addMember records the Dictionary member name=m of a targeted field.
func (r *Response) addMember(name string, m httpsfv.Member) {
	d := lookup(name)
	if !isResponse(d) {
		r.bits |= bitExtensions
		return
	}
	v := bareValue(m)
	switch d {
	case dirMaxAge, dirSMaxAge, dirStaleWhileRevalidate, dirStaleIfError:
		n, ok := v.(int64)
		if !ok || n < 0 {
			r.defects |= DefectArgument
			n = 0
		}
		secs := uint32(min(n, maxDeltaSeconds))
		switch d {
		case dirMaxAge:
			r.maxAge = secs
		case dirSMaxAge:
			r.sMaxAge = secs
		case dirStaleWhileRevalidate:
			r.swr = secs
		default:
			r.sie = secs
		}
		r.bits |= d.bit()
	case dirNoCache, dirPrivate:
		q := bitNoCacheQualified
		if d == dirPrivate {
			q = bitPrivateQualified
		}
		if s, ok := v.(string); ok && fieldNames(s, false) {
			r.bits |= q
			return
		}
		if v == false {
			r.defects |= DefectArgument
			return
		}
		if v != true {
			r.defects |= DefectArgument
		}
		r.bits |= d.bit()
	case dirPublic, dirMustUnderstand:
		if v != true {
			r.defects |= DefectArgument
			return
		}
		r.bits |= d.bit()
	default: // no-store, must-revalidate, proxy-revalidate, no-transform, immutable
		if v != true {
			r.defects |= DefectArgument
		}
		if v != false {
			r.bits |= d.bit()
		}
	}
}

// dictFields yields the field names of the qualified directive d in dict.
func dictFields(dict *httpsfv.Dictionary, d directive) iter.Seq[string] {
	return func(yield func(string) bool) {
		m, _ := dict.Get(d.String())
		s, ok := bareValue(m).(string)
		if !ok {
			return
		}
		for f := range httplex.Elements(s) {
			if !yield(f) {
				return
			}
		}
	}
}

// dictExtensions yields the members of dict that Response does not
// interpret, with their values as strings (see memberValue).
func dictExtensions(dict *httpsfv.Dictionary) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, name := range dict.Names() {
			if isResponse(lookup(name)) {
				continue
			}
			m, _ := dict.Get(name)
			if !yield(name, memberValue(m)) {
				return
			}
		}
	}
}

// dictExtension returns the value of the extension member named name,
// compared case-insensitively.
func dictExtension(dict *httpsfv.Dictionary, name string) (string, bool) {
	if isResponse(lookup(name)) {
		return "", false
	}
	for _, k := range dict.Names() {
		if httplex.EqualFold(k, name) {
			m, _ := dict.Get(k)
			return memberValue(m), true
		}
	}
	return "", false
}

// memberValue renders a Dictionary member's value the way a Cache-Control
// argument reads once unquoted: "" for true, the content of a String, the
// text of a Token or Integer, and the Structured Field serialisation of
// anything else. Parameters are left out (RFC 9213 §2.1).
func memberValue(m httpsfv.Member) string {
	switch v := bareValue(m).(type) {
	case bool:
		if v {
			return ""
		}
	case string:
		return v
	case httpsfv.Token:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case nil:
		if il, ok := m.(httpsfv.InnerList); ok {
			il.Params = httpsfv.NewParams()
			s, _ := httpsfv.Marshal(il)
			return s
		}
		return ""
	}
	s, _ := httpsfv.Marshal(httpsfv.Item{Value: bareValue(m), Params: httpsfv.NewParams()})
	return s
}
