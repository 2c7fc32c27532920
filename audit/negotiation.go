// RFC 9110 §8.8.3.3 and §12.5.5: entity tags of content-negotiated
// representations, and Vary naming what selected them.

package audit

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/notmod/notmod/internal/httplex"
	"github.com/notmod/notmod/precond"
)

// negotiation asks for the gzip coding and compares the answer with the
// first GET's, which asked for identity.
func (r *run) negotiation(get *Exchange) {
	gz := r.send("coding-gzip", http.MethodGet, fields("Accept-Encoding", "gzip"), nil)
	checkNegotiation(&r.f, get, gz)
}

// checkNegotiation judges two representations selected by
// Accept-Encoding: when their content codings differ, a strong ETag must
// differ too (RFC 9110 §8.8.1, §8.8.3.3), and Vary should name
// Accept-Encoding (§12.5.5).
func checkNegotiation(f *findings, get, gz *Exchange) {
	if gz.status() != http.StatusOK {
		return
	}
	c1, c2 := coding(get.header()), coding(gz.header())
	if c1 == c2 {
		f.add("coding-not-negotiated", Info, "RFC 9110 §12.5.5",
			fmt.Sprintf("Accept-Encoding: gzip got the same content coding as identity (%s); nothing to compare.", c1), "get", "coding-gzip")
		return
	}
	t1, t2 := get.header().Get("Etag"), gz.header().Get("Etag")
	tag, ok := precond.ParseETag(t1)
	switch {
	case t1 == "" || t2 == "":
	case t1 == t2 && ok && !tag.Weak():
		f.add("etag-same-across-codings", Must, "RFC 9110 §8.8.1, §8.8.3.3",
			fmt.Sprintf("The %s and %s codings, different bytes, carry the same strong ETag %s; a tag shared by different bytes is weak and must be marked W/, or caches and Range requests mix the two.", c1, c2, t1), "get", "coding-gzip")
	case t1 == t2:
		f.add("etag-weak-across-codings", Info, "RFC 9110 §8.8.1",
			fmt.Sprintf("The %s and %s codings share the weak ETag %s, which a weak tag may.", c1, c2, t1), "get", "coding-gzip")
	default:
		f.add("coding-etag-distinct", OK, "RFC 9110 §8.8.3.3",
			fmt.Sprintf("The %s and %s codings carry different ETags (%s, %s).", c1, c2, t1, t2), "get", "coding-gzip")
	}
	var missing []string
	for _, ex := range []*Exchange{get, gz} {
		if !varies(ex.header(), "Accept-Encoding") {
			missing = append(missing, coding(ex.header()))
		}
	}
	if len(missing) > 0 {
		f.add("vary-missing-accept-encoding", Should, "RFC 9110 §12.5.5; RFC 9111 §4.1",
			fmt.Sprintf("The content coding depends on Accept-Encoding, but Vary does not name it on the %s response; a cache may send gzip to a client that cannot decode it.", strings.Join(missing, " and the ")), "get", "coding-gzip")
	} else {
		f.add("vary-accept-encoding", OK, "RFC 9110 §12.5.5",
			"Vary names Accept-Encoding on both codings.", "get", "coding-gzip")
	}
}

// coding returns the content coding of a response, "identity" when none.
func coding(h http.Header) string {
	var cs []string
	for e := range httplex.ElementsOf(h["Content-Encoding"]) {
		cs = append(cs, strings.ToLower(e))
	}
	if len(cs) == 0 {
		return "identity"
	}
	return strings.Join(cs, ", ")
}

// varies reports whether Vary names the field, or is "*" (RFC 9110
// §12.5.5).
func varies(h http.Header, field string) bool {
	for e := range httplex.ElementsOf(h["Vary"]) {
		if e == "*" || httplex.EqualFold(e, field) {
			return true
		}
	}
	return false
}
