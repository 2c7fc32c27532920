// RFC 9110 §13.1.1 and §13.1.4: If-Match and If-Unmodified-Since, the
// lost-update preconditions, which must fail with 412.

package audit

import (
	"fmt"
	"net/http"
	"time"
)

// preconditions sends the If-Match and If-Unmodified-Since probes with
// Options.IfMatchMethod and judges them.
func (r *run) preconditions(get *Exchange, v validators) {
	m := r.a.opts.IfMatchMethod
	safe := m == http.MethodGet || m == http.MethodHead
	// With PUT, a probe whose precondition holds rewrites the content the
	// first GET read; with other unsafe methods it would change the
	// resource, so it is not sent.
	success := safe || m == http.MethodPut
	var content []byte
	extra := []string{}
	if m == http.MethodPut {
		content = get.content
		if get.truncated {
			success = false
		}
		if ct := get.header().Get("Content-Type"); ct != "" {
			extra = append(extra, "Content-Type", ct)
		}
	}
	send := func(name string, kv ...string) *Exchange {
		return r.send(name, m, fields(append(kv, extra...)...), content)
	}
	p := map[string]*Exchange{}
	if v.etagOK && success {
		p["if-match-current"] = send("if-match-current", "If-Match", string(v.etag))
	}
	p["if-match-other"] = send("if-match-other", "If-Match", tagA)
	if v.lmOK {
		p["ius-old"] = send("ius-old", "If-Unmodified-Since", v.lm.Add(-24*time.Hour).UTC().Format(http.TimeFormat))
		if success {
			p["ius-current"] = send("ius-current", "If-Unmodified-Since", v.lmValue)
		}
	}
	if !success {
		r.f.add("precondition-success-not-sent", Info, "RFC 9110 §13.1.1",
			fmt.Sprintf("The If-Match and If-Unmodified-Since probes that should succeed were not sent: with %s they would change the resource.", m))
	}
	checkPreconditions(&r.f, v, m, p)
}

// checkPreconditions judges the If-Match and If-Unmodified-Since probes
// sent with method (RFC 9110 §13.1.1, §13.1.4, §13.2.1).
func checkPreconditions(f *findings, v validators, method string, p map[string]*Exchange) {
	fine := func(ex *Exchange) bool { s := ex.status(); return s >= 200 && s < 300 }
	// notEvaluated notes an answer that says nothing about the
	// precondition: a status the request would have got anyway, such as
	// 405 (§13.2.1).
	notEvaluated := func(ex *Exchange) bool {
		s := ex.status()
		if s == 0 || fine(ex) || s == http.StatusNotModified || s == http.StatusPreconditionFailed {
			return false
		}
		f.add("precondition-not-evaluated", Info, "RFC 9110 §13.2.1",
			fmt.Sprintf("%s with a precondition got %d, which a request without one would get too; preconditions are ignored then, so the probe proves nothing.", method, s), ex.Name)
		return true
	}
	if ex := p["if-match-current"]; ex != nil && ex.Response != nil && !notEvaluated(ex) {
		switch {
		case v.etag.Weak() && ex.status() == http.StatusPreconditionFailed:
			f.add("if-match-weak-refused", OK, "RFC 9110 §13.1.1",
				fmt.Sprintf("If-Match %s got 412: If-Match compares strongly and a weak tag never matches.", v.etag), ex.Name)
		case v.etag.Weak():
			f.add("if-match-weak-matched", Must, "RFC 9110 §13.1.1, §8.8.3.2",
				fmt.Sprintf("If-Match %s got %d; If-Match must use the strong comparison, under which a weak tag matches nothing.", v.etag, ex.status()), ex.Name)
		case fine(ex):
			f.add("if-match-current-ok", OK, "RFC 9110 §13.1.1",
				fmt.Sprintf("If-Match with the current tag got %d.", ex.status()), ex.Name)
		case changedTag(ex, v.etag):
			f.add("if-match-representation-changed", Info, "RFC 9110 §13.1.1",
				fmt.Sprintf("If-Match with the current tag got %d with another ETag: the representation changed between probes.", ex.status()), ex.Name)
		default:
			f.add("if-match-current-failed", Must, "RFC 9110 §13.1.1",
				fmt.Sprintf("If-Match with the current tag %s got %d; the tag matches, so the condition is true and the request must be performed.", v.etag, ex.status()), ex.Name)
		}
	}
	if ex := p["if-match-other"]; ex != nil && ex.Response != nil && !notEvaluated(ex) {
		switch {
		case ex.status() == http.StatusPreconditionFailed:
			f.add("if-match-failed-412", OK, "RFC 9110 §13.1.1",
				"If-Match with a tag the representation does not have got 412 Precondition Failed.", ex.Name)
		case answeredByCache(ex):
			f.add("if-match-ignored-by-cache", Info, "RFC 9110 §13.1.1",
				fmt.Sprintf("If-Match with a tag the representation does not have got %d from a cache, which may ignore If-Match; the origin was not tested.", ex.status()), ex.Name)
		default:
			f.add("if-match-failed-not-412", Must, "RFC 9110 §13.1.1, §13.2.2",
				fmt.Sprintf("If-Match with a tag the representation does not have got %d; the condition is false, so the origin must not perform the request and answers 412 Precondition Failed.", ex.status()), ex.Name)
		}
	}
	if ex := p["ius-old"]; ex != nil && ex.Response != nil && !notEvaluated(ex) {
		switch {
		case ex.status() == http.StatusPreconditionFailed:
			f.add("ius-failed-412", OK, "RFC 9110 §13.1.4",
				"If-Unmodified-Since a day before Last-Modified got 412 Precondition Failed.", ex.Name)
		case answeredByCache(ex):
			f.add("ius-ignored-by-cache", Info, "RFC 9110 §13.1.4",
				fmt.Sprintf("If-Unmodified-Since a day before Last-Modified got %d from a cache, which may ignore it; the origin was not tested.", ex.status()), ex.Name)
		default:
			f.add("ius-failed-not-412", Must, "RFC 9110 §13.1.4, §13.2.2",
				fmt.Sprintf("If-Unmodified-Since a day before Last-Modified got %d; the representation was modified since, so the origin must not perform the request and answers 412 Precondition Failed.", ex.status()), ex.Name)
		}
	}
	if ex := p["ius-current"]; ex != nil && ex.Response != nil && !notEvaluated(ex) {
		switch {
		case fine(ex):
			f.add("ius-current-ok", OK, "RFC 9110 §13.1.4",
				fmt.Sprintf("If-Unmodified-Since with the Last-Modified value got %d.", ex.status()), ex.Name)
		case laterModified(ex, v):
			f.add("ius-representation-changed", Info, "RFC 9110 §13.1.4",
				fmt.Sprintf("If-Unmodified-Since with the Last-Modified value got %d with a later Last-Modified: the representation changed between probes.", ex.status()), ex.Name)
		default:
			f.add("ius-current-failed", Must, "RFC 9110 §13.1.4",
				fmt.Sprintf("If-Unmodified-Since with the Last-Modified value got %d; the representation was not modified since, so the condition is true and the request must be performed.", ex.status()), ex.Name)
		}
	}
}

// answeredByCache reports whether a cache answered ex from its store: it
// has an Age, or a Cache-Status member says hit (RFC 9111 §5.1,
// RFC 9211 §2.1).
func answeredByCache(ex *Exchange) bool {
	h := ex.header()
	if len(h["Age"]) > 0 {
		return true
	}
	entries, err := ParseCacheStatus(h["Cache-Status"])
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Hit {
			return true
		}
	}
	return false
}
