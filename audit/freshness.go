// RFC 9111 §3 and §4.2: whether caches store a response and for how long
// they reuse it, and Cache-Control directives that conflict or do nothing.

package audit

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/notmod/notmod/cachecontrol"
)

// heuristicFraction is the fraction of the time since Last-Modified that
// caches typically take as a heuristic lifetime (RFC 9111 §4.2.2).
const heuristicFraction = 0.1

// heuristicStatus reports the status codes that are heuristically
// cacheable (RFC 9110 §15.1, RFC 9111 §4.2.2).
func heuristicStatus(code int) bool {
	switch code {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// freshnessOf computes what a shared and a private cache would make of
// the response of ex; auth tells whether the request carried
// Authorization (RFC 9111 §3.5).
func freshnessOf(ex *Exchange, auth bool) Freshness {
	h := ex.header()
	cc := cachecontrol.ParseResponse(h["Cache-Control"])
	date, form := parseDate(h.Get("Date"))
	if form == dateInvalid {
		date = ex.at
	}
	return Freshness{
		Shared:  lifetimeOf(cc, h, ex.status(), date, true, auth),
		Private: lifetimeOf(cc, h, ex.status(), date, false, auth),
	}
}

// lifetimeOf is one cache's view of a response: whether it stores it
// (RFC 9111 §3, §3.5) and its freshness lifetime, from the first rule of
// §4.2.1 that applies, or the heuristic of §4.2.2.
func lifetimeOf(cc cachecontrol.Response, h http.Header, status int, date time.Time, shared, auth bool) Lifetime {
	_, hasSMaxAge := cc.SMaxAge()
	switch {
	case cc.NoStore():
		return Lifetime{Source: SourceNoStore}
	case shared && cc.Private():
		return Lifetime{Source: SourcePrivate}
	case shared && auth && !cc.Public() && !hasSMaxAge && !cc.MustRevalidate():
		return Lifetime{Source: SourceAuthorization}
	}
	l := Lifetime{Stores: true, ValidateEveryUse: cc.NoCache()}
	if d, ok := cc.SMaxAge(); ok && shared {
		l.Seconds, l.Source = int64(d/time.Second), SourceSMaxAge
		return l
	}
	if d, ok := cc.MaxAge(); ok {
		l.Seconds, l.Source = int64(d/time.Second), SourceMaxAge
		return l
	}
	if exp, ok := h["Expires"]; ok {
		l.Source = SourceExpires
		if t, form := parseDate(strings.TrimSpace(strings.Join(exp, ","))); form != dateInvalid && len(exp) == 1 {
			l.Seconds = max(0, int64(t.Sub(date)/time.Second))
		}
		return l
	}
	if !heuristicStatus(status) && !cc.Public() && !(cc.Private() && !shared) {
		return Lifetime{Source: SourceStatus}
	}
	l.Source = SourceNone
	if lm, form := parseDate(h.Get("Last-Modified")); form != dateInvalid && len(h["Last-Modified"]) == 1 && date.After(lm) && !cc.NoCache() {
		l.Seconds = int64(float64(date.Sub(lm)/time.Second) * heuristicFraction)
		if l.Seconds > 0 {
			l.Source = SourceHeuristic
		}
	}
	return l
}

// explicit reports whether the lifetime comes from the response's own
// directives or Expires, not from a heuristic.
func (l Lifetime) explicit() bool {
	return l.Source == SourceSMaxAge || l.Source == SourceMaxAge || l.Source == SourceExpires
}

// describe says in words what a cache does with the response.
func (l Lifetime) describe(who string) (msg, section string) {
	switch l.Source {
	case SourceNoStore:
		return fmt.Sprintf("A %s cache would not store it: no-store.", who), "RFC 9111 §5.2.2.5"
	case SourcePrivate:
		return fmt.Sprintf("A %s cache would not store it: private.", who), "RFC 9111 §5.2.2.7"
	case SourceAuthorization:
		return fmt.Sprintf("A %s cache would not store it: the request carried Authorization and the response has no public, s-maxage or must-revalidate.", who), "RFC 9111 §3.5"
	case SourceStatus:
		return fmt.Sprintf("A %s cache would not store it: its status is not heuristically cacheable and it has no explicit freshness.", who), "RFC 9111 §3"
	}
	if l.ValidateEveryUse {
		return fmt.Sprintf("A %s cache may store it, but no-cache makes it validate the response with the origin before every reuse.", who), "RFC 9111 §5.2.2.4"
	}
	switch l.Source {
	case SourceNone:
		return fmt.Sprintf("A %s cache may store it, but it has no explicit lifetime and no Last-Modified old enough for a heuristic one, so it is stale at once and validated before reuse.", who), "RFC 9111 §4.2.2"
	case SourceHeuristic:
		return fmt.Sprintf("A %s cache would typically reuse it for %s, 10 %% of the time since Last-Modified (heuristic freshness; send max-age to decide yourself).", who, seconds(l.Seconds)), "RFC 9111 §4.2.2"
	}
	return fmt.Sprintf("A %s cache would reuse it for %s without asking the origin (from %s).", who, seconds(l.Seconds), l.Source), "RFC 9111 §4.2.1"
}

// seconds shows a number of seconds, with a larger unit where it helps.
func seconds(n int64) string {
	d := time.Duration(n) * time.Second
	switch {
	case n >= int64(cachecontrol.MaxDelta/time.Second):
		return fmt.Sprintf("%d s (forever)", n)
	case n >= 120:
		return fmt.Sprintf("%d s (%s)", n, d)
	}
	return fmt.Sprintf("%d s", n)
}

// checkCaching reports the freshness lifetimes and judges the
// Cache-Control, Expires and Pragma fields of the first GET.
func checkCaching(f *findings, get *Exchange, fr Freshness) {
	msg, sec := fr.Shared.describe("shared")
	f.add("freshness-shared", Info, sec, msg, "get")
	msg, sec = fr.Private.describe("private")
	f.add("freshness-private", Info, sec, msg, "get")

	h := get.header()
	cc := cachecontrol.ParseResponse(h["Cache-Control"])
	if d := cc.Defects(); d&(cachecontrol.DefectSyntax|cachecontrol.DefectArgument) != 0 {
		f.add("cache-control-syntax", Must, "RFC 9111 §5.2, §1.2.2",
			fmt.Sprintf("Cache-Control %q does not follow the directive grammar (%s); caches read such directives in the most restrictive way, or ignore them.", strings.Join(h["Cache-Control"], ", "), d), "get")
	}
	if cc.Defects()&cachecontrol.DefectConflict != 0 {
		f.add("cache-control-duplicate", Should, "RFC 9111 §4.2.1",
			fmt.Sprintf("Cache-Control %q repeats a directive with different values; caches use the first or treat the response as stale, so send it once.", strings.Join(h["Cache-Control"], ", ")), "get")
	}
	conflicts, useless := directiveNotes(cc, h)
	if len(conflicts) > 0 {
		f.add("cache-control-conflict", Info, "RFC 9111 §4.2.1",
			"Conflicting directives, of which caches honour the most restrictive: "+strings.Join(conflicts, "; ")+".", "get")
	}
	if len(useless) > 0 {
		f.add("cache-control-useless", Info, "RFC 9111 §5.2.2",
			"Directives that have no effect here: "+strings.Join(useless, "; ")+".", "get")
	}
	if exp, ok := h["Expires"]; ok {
		if _, form := parseDate(strings.TrimSpace(exp[0])); len(exp) != 1 || form != dateIMF {
			f.add("expires-invalid", Must, "RFC 9111 §5.3; RFC 9110 §5.6.7",
				fmt.Sprintf("Expires %s is not one IMF-fixdate; caches take it as already expired. Say so with Cache-Control: max-age=0 or no-cache instead.", quoteLines(exp)), "get")
		}
		_, sm := cc.SMaxAge()
		if _, ma := cc.MaxAge(); ma || sm {
			f.add("expires-ignored", Info, "RFC 9111 §5.3",
				"Expires is ignored by caches, since Cache-Control has max-age or s-maxage.", "get")
		}
	}
	if len(h["Pragma"]) > 0 {
		f.add("pragma-in-response", Info, "RFC 9111 §5.4",
			fmt.Sprintf("Pragma %s in a response means nothing to caches; use Cache-Control.", quoteLines(h["Pragma"])), "get")
	}
}

// directiveNotes lists the conflicting directives of cc and those that
// have no effect (RFC 9111 §4.2.1, §5.2.2; RFC 5861; RFC 8246).
func directiveNotes(cc cachecontrol.Response, h http.Header) (conflicts, useless []string) {
	_, maxAge := cc.MaxAge()
	_, sMaxAge := cc.SMaxAge()
	_, swr := cc.StaleWhileRevalidate()
	_, sie := cc.StaleIfError()
	if cc.Public() && cc.Private() {
		conflicts = append(conflicts, "public and private (private wins)")
	}
	if cc.NoCache() && (maxAge || sMaxAge) {
		conflicts = append(conflicts, "max-age or s-maxage with no-cache (no-cache wins: every reuse is validated)")
	}
	if cc.Immutable() && cc.NoCache() {
		conflicts = append(conflicts, "immutable with no-cache (no-cache wins)")
	}
	if cc.NoStore() {
		var with []string
		for _, d := range []struct {
			on   bool
			name string
		}{{maxAge, "max-age"}, {sMaxAge, "s-maxage"}, {cc.Public(), "public"}, {cc.NoCache(), "no-cache"},
			{cc.MustRevalidate(), "must-revalidate"}, {cc.ProxyRevalidate(), "proxy-revalidate"},
			{swr, "stale-while-revalidate"}, {sie, "stale-if-error"}, {cc.Immutable(), "immutable"}} {
			if d.on {
				with = append(with, d.name)
			}
		}
		if len(with) > 0 {
			useless = append(useless, "no-store stores nothing, so "+strings.Join(with, ", ")+" do nothing")
		}
	}
	if cc.Private() && (sMaxAge || cc.ProxyRevalidate()) {
		useless = append(useless, "s-maxage and proxy-revalidate apply to shared caches, which private keeps out")
	}
	if cc.MustRevalidate() && cc.NoCache() {
		useless = append(useless, "must-revalidate adds nothing to no-cache")
	}
	if swr && (cc.MustRevalidate() || cc.NoCache() || cc.ProxyRevalidate() && !cc.Private()) {
		useless = append(useless, "stale-while-revalidate cannot apply while must-revalidate, proxy-revalidate or no-cache forbid serving stale")
	}
	if sMaxAge && cc.ProxyRevalidate() && !cc.Private() {
		useless = append(useless, "proxy-revalidate adds nothing to s-maxage")
	}
	_, expires := h["Expires"]
	if cc.Immutable() && !maxAge && !sMaxAge && !expires {
		useless = append(useless, "immutable without a freshness lifetime")
	}
	return conflicts, useless
}
