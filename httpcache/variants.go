// RFC 9111 §2 and §4.1: cache keys, and the variants that Vary selects.

package httpcache

import (
	"encoding/binary"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/notmod/notmod/internal/httplex"
)

// maxVariants bounds how many variants of one URL are remembered; the
// oldest is forgotten first.
const maxVariants = 32

// appendPrimaryKey appends the primary cache key of a request to dst: the
// target URI, as scheme, authority (host lower-cased) and request-target
// (RFC 9111 §2): a response to http is never served for https. Only GET
// responses are stored, so the method is not part of it.
func appendPrimaryKey(dst []byte, scheme, host, uri string) []byte {
	dst = append(dst, "1 "...)
	dst = append(dst, scheme...)
	dst = append(dst, "://"...)
	// The default port is the same authority as none (RFC 9110 §4.2.3).
	if scheme == "http" && strings.HasSuffix(host, ":80") {
		host = host[:len(host)-3]
	} else if scheme == "https" && strings.HasSuffix(host, ":443") {
		host = host[:len(host)-4]
	}
	// Host names are case-insensitive: one entry, however a client
	// spells it (RFC 9110 §4.2.3).
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return append(dst, uri...)
}

// variantKey returns the key of the variant of primary selected by the
// request field values vary (see varyValues).
func variantKey(primary, vary string) string {
	return primary + "\x00" + strconv.FormatUint(xxhash.Sum64String(vary), 16)
}

// varyNames returns the field names a response's Vary lists, in canonical
// form, without duplicates, and whether it lists "*" (RFC 9110 §12.5.5).
func varyNames(h http.Header) (names []string, star bool) {
	for v := range httplex.ElementsOf(h["Vary"]) {
		if v == "*" {
			return nil, true
		}
		if !httplex.IsToken(v) {
			continue
		}
		n := http.CanonicalHeaderKey(v)
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names, false
}

// varyValues serialises the request's values of the named fields,
// normalised where their semantics allow (RFC 9111 §4.1): list elements
// trimmed of whitespace and joined by commas; for the proactive
// negotiation fields whose members are case-insensitive tokens with
// weights (Accept-Encoding, Accept-Language, Accept-Charset; RFC 9110
// §12.5), members lower-cased, stripped of whitespace and sorted, since
// neither case nor order changes their meaning. An absent field differs
// from an empty one.
func varyValues(names []string, h http.Header) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		lines, ok := h[n]
		if !ok {
			b.WriteString("\x01\n")
			continue
		}
		b.WriteByte('=')
		var elems []string
		fold := n == "Accept-Encoding" || n == "Accept-Language" || n == "Accept-Charset"
		for e := range httplex.ElementsOf(lines) {
			if fold {
				e = lowerASCII(removeOWS(e))
			}
			elems = append(elems, e)
		}
		if fold {
			slices.Sort(elems)
		}
		b.WriteString(strings.Join(elems, ","))
		b.WriteByte('\n')
	}
	return b.String()
}

// removeOWS drops spaces and tabs, as around the ";" of a weight.
func removeOWS(s string) string {
	if !strings.ContainsAny(s, " \t") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// variantRecord is stored under the primary key of a URL whose responses
// carry Vary: the field names they vary on, and the variants stored, with
// their entity tags for revalidation (RFC 9111 §4.3.1).
type variantRecord struct {
	names    []string
	variants []variant // oldest first
}

type variant struct {
	key  string // the full variant key
	etag string
}

func (r *variantRecord) encode() []byte {
	b := []byte{kindVariant, version}
	b = appendBytes(b, strings.Join(r.names, ","))
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.variants)))
	for _, v := range r.variants {
		b = appendBytes(b, v.key)
		b = appendBytes(b, v.etag)
	}
	return b
}

func decodeVariants(b []byte) (*variantRecord, error) {
	if len(b) < 2 || b[0] != kindVariant || b[1] != version {
		return nil, errCorrupt
	}
	rest := b[2:]
	next := func() (string, bool) {
		if len(rest) < 4 {
			return "", false
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return "", false
		}
		s := string(rest[4 : 4+n])
		rest = rest[4+n:]
		return s, true
	}
	names, ok := next()
	if !ok || len(rest) < 2 {
		return nil, errCorrupt
	}
	r := &variantRecord{}
	for n := range strings.SplitSeq(names, ",") {
		if n != "" {
			r.names = append(r.names, n)
		}
	}
	count := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	for range count {
		k, ok1 := next()
		e, ok2 := next()
		if !ok1 || !ok2 {
			return nil, errCorrupt
		}
		r.variants = append(r.variants, variant{key: k, etag: e})
	}
	if len(rest) != 0 {
		return nil, errCorrupt
	}
	return r, nil
}

// put records v, replacing a variant with the same key; the record keeps
// at most maxVariants, dropping the oldest.
func (r *variantRecord) put(v variant) {
	r.variants = slices.DeleteFunc(r.variants, func(x variant) bool { return x.key == v.key })
	r.variants = append(r.variants, v)
	if len(r.variants) > maxVariants {
		r.variants = r.variants[len(r.variants)-maxVariants:]
	}
}

// hasTags reports whether any recorded variant has an entity tag.
func (r *variantRecord) hasTags() bool {
	if r == nil {
		return false
	}
	for _, v := range r.variants {
		if v.etag != "" {
			return true
		}
	}
	return false
}

// lists reports whether key is one of the recorded variants.
func (r *variantRecord) lists(key string) bool {
	for _, v := range r.variants {
		if v.key == key {
			return true
		}
	}
	return false
}

// lowerASCII lower-cases the ASCII letters of s; field values are compared
// byte-wise, so other bytes stay as they are.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// schemeOf returns the scheme of a request's target URI: a client
// request's own, or for a request a server received, https when it came
// over TLS and http otherwise.
func schemeOf(r *http.Request) string {
	if r.RequestURI == "" && r.URL != nil {
		switch r.URL.Scheme {
		case "https", "HTTPS":
			return "https"
		case "http", "HTTP":
			return "http"
		}
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// appendURLKey appends the primary key of an absolute URL.
func appendURLKey(dst []byte, u *url.URL, uri string) []byte {
	scheme := "http"
	if httplex.EqualFold(u.Scheme, "https") {
		scheme = "https"
	}
	return appendPrimaryKey(dst, scheme, u.Host, uri)
}
