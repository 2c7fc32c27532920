// RFC 9110 §13.1.2 and §13.1.3: If-None-Match and If-Modified-Since, and
// §13.2.2: If-Modified-Since ignored when If-None-Match is present.

package audit

import (
	"fmt"
	"net/http"

	"github.com/notmod/notmod/precond"
)

// checkIfNoneMatch judges the If-None-Match probes: the exact tag, its
// other form (weak comparison), a list holding it, a list without it, and
// `*` (RFC 9110 §13.1.2).
func checkIfNoneMatch(f *findings, v validators, cond map[string]*Exchange) {
	matching := []struct {
		probe, what string
	}{
		{"inm-exact", "the current entity tag " + string(v.etag)},
		{"inm-weak", fmt.Sprintf("%s, the other form of the current tag (If-None-Match compares weakly),", otherForm(v.etag))},
		{"inm-list", "a list holding the current tag among others"},
	}
	for _, m := range matching {
		ex := cond[m.probe]
		if ex == nil || ex.Response == nil {
			continue
		}
		switch st := ex.status(); {
		case st == http.StatusNotModified:
			f.add(m.probe+"-matched", OK, "RFC 9110 §13.1.2",
				fmt.Sprintf("If-None-Match with %s got 304 Not Modified.", m.what), m.probe)
		case changedTag(ex, v.etag):
			f.add("inm-representation-changed", Info, "RFC 9110 §13.1.2",
				fmt.Sprintf("If-None-Match with %s got %d with another ETag, %s: the representation changed between probes, so the probe proves nothing.", m.what, st, orAbsent(ex.header().Get("Etag"))), m.probe)
		default:
			f.add(m.probe+"-not-matched", Must, "RFC 9110 §13.1.2",
				fmt.Sprintf("If-None-Match with %s got %d; a matching tag makes the condition false, and a GET must then get 304 Not Modified.", m.what, st), m.probe)
		}
	}
	if ex := cond["inm-other"]; ex != nil && ex.Response != nil {
		if st := ex.status(); st == http.StatusOK {
			f.add("inm-other-full", OK, "RFC 9110 §13.1.2",
				"If-None-Match with a list of tags the representation does not have got 200 with the content.", "inm-other")
		} else if st == http.StatusNotModified || st == http.StatusPreconditionFailed {
			f.add("inm-other-not-modified", Must, "RFC 9110 §13.1.2",
				fmt.Sprintf("If-None-Match with a list of tags the representation does not have got %d; no tag matched, so the condition is true and the GET must be performed.", st), "inm-other")
		}
	}
	if ex := cond["inm-star"]; ex != nil && ex.Response != nil {
		if st := ex.status(); st == http.StatusNotModified {
			f.add("inm-star-matched", OK, "RFC 9110 §13.1.2",
				"If-None-Match: * got 304 Not Modified, as it must while the resource has a representation.", "inm-star")
		} else {
			f.add("inm-star-not-honoured", Must, "RFC 9110 §13.1.2",
				fmt.Sprintf("If-None-Match: * got %d; `*` matches any current representation, so a GET must get 304 Not Modified.", st), "inm-star")
		}
	}
}

// changedTag reports whether ex, a response to a probe with tag, carries
// another entity tag: the representation changed in between.
func changedTag(ex *Exchange, tag precond.ETag) bool {
	got, ok := precond.ParseETag(ex.header().Get("Etag"))
	return ok && !got.WeakMatch(tag)
}

// checkIfModifiedSince judges the If-Modified-Since probes: the
// Last-Modified value, a day earlier, a date in the future, an invalid
// date, and a matching date next to a non-matching If-None-Match
// (RFC 9110 §13.1.3, §13.2.2).
func checkIfModifiedSince(f *findings, v validators, cond map[string]*Exchange) {
	if !v.lmOK {
		return
	}
	if ex := cond["ims-exact"]; ex != nil && ex.Response != nil {
		switch st := ex.status(); {
		case st == http.StatusNotModified:
			f.add("ims-exact-matched", OK, "RFC 9110 §13.1.3",
				"If-Modified-Since with the Last-Modified value got 304 Not Modified.", "ims-exact")
		case laterModified(ex, v):
			f.add("ims-representation-changed", Info, "RFC 9110 §13.1.3",
				fmt.Sprintf("If-Modified-Since with the Last-Modified value got %d with a later Last-Modified, %s: the representation changed between probes.", st, ex.header().Get("Last-Modified")), "ims-exact")
		default:
			f.add("ims-exact-not-honoured", Should, "RFC 9110 §13.1.3",
				fmt.Sprintf("If-Modified-Since with the Last-Modified value got %d; an origin should answer 304 Not Modified, or caches without an ETag download it again each time.", st), "ims-exact")
		}
	}
	if ex := cond["ims-earlier"]; ex != nil && ex.Response != nil {
		if st := ex.status(); st == http.StatusNotModified {
			f.add("ims-earlier-not-modified", Must, "RFC 9110 §13.1.3, §15.4.5",
				"If-Modified-Since a day before Last-Modified got 304 Not Modified; the representation was modified since, so the condition is true and the GET must be performed.", "ims-earlier")
		} else if st == http.StatusOK {
			f.add("ims-earlier-full", OK, "RFC 9110 §13.1.3",
				"If-Modified-Since a day before Last-Modified got 200 with the content.", "ims-earlier")
		}
	}
	if ex := cond["ims-future"]; ex != nil && ex.Response != nil {
		if st := ex.status(); st == http.StatusNotModified {
			f.add("ims-future-matched", OK, "RFC 9110 §13.1.3",
				"If-Modified-Since "+futureDate+" got 304 Not Modified.", "ims-future")
		} else {
			f.add("ims-future-full", Info, "RFC 9110 §13.1.3",
				fmt.Sprintf("If-Modified-Since %s got %d: the server compares dates exactly or refuses dates in the future, as §13.1.3 lets it; clients that send other dates than Last-Modified get no 304.", futureDate, st), "ims-future")
		}
	}
	if ex := cond["ims-invalid"]; ex != nil && ex.Response != nil {
		if st := ex.status(); st == http.StatusNotModified {
			f.add("ims-invalid-not-ignored", Must, "RFC 9110 §13.1.3",
				fmt.Sprintf("If-Modified-Since %q got 304 Not Modified; a recipient must ignore a value that is not an HTTP-date.", invalidDate), "ims-invalid")
		} else if st == http.StatusOK {
			f.add("ims-invalid-ignored", OK, "RFC 9110 §13.1.3",
				"An If-Modified-Since that is not a date was ignored.", "ims-invalid")
		}
	}
	if ex := cond["inm-ims"]; ex != nil && ex.Response != nil {
		if other := cond["inm-other"]; other.status() == http.StatusNotModified {
			return // the If-None-Match alone gave 304; inm-other-not-modified says so
		}
		if st := ex.status(); st == http.StatusNotModified {
			f.add("ims-honoured-with-inm", Must, "RFC 9110 §13.1.3, §13.2.2",
				"A non-matching If-None-Match with a matching If-Modified-Since got 304 Not Modified; a recipient must ignore If-Modified-Since when If-None-Match is present, and the tag did not match.", "inm-ims")
		} else if st == http.StatusOK {
			f.add("ims-ignored-with-inm", OK, "RFC 9110 §13.1.3, §13.2.2",
				"A non-matching If-None-Match with a matching If-Modified-Since got 200: If-Modified-Since was ignored, as it must be.", "inm-ims")
		}
	}
}

// laterModified reports whether ex carries a Last-Modified later than
// the one the probes were made from.
func laterModified(ex *Exchange, v validators) bool {
	t, form := parseDate(ex.header().Get("Last-Modified"))
	return form != dateInvalid && t.After(v.lm)
}
