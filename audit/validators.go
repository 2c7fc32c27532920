// RFC 9110 §8.8: the validators of a plain GET, HEAD against GET, and
// whether validators stay put while the content does.

package audit

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/notmod/notmod/internal/httplex"
	"github.com/notmod/notmod/precond"
)

// validators are what the first GET said about its representation.
type validators struct {
	etagRaw  []string     // the ETag field lines
	etag     precond.ETag // valid when etagOK
	etagOK   bool
	lmRaw    []string  // the Last-Modified field lines
	lm       time.Time // valid when lmOK
	lmValue  string    // the Last-Modified value as received
	lmOK     bool      // Last-Modified is one valid HTTP-date
	lmForm   dateForm
	date     time.Time // the Date field, or the local clock
	dateFrom string    // "Date" or "the local clock"
}

// validatorsOf reads the validators of ex, using now when it has no Date.
func validatorsOf(ex *Exchange, now time.Time) validators {
	h := ex.header()
	v := validators{etagRaw: h["Etag"], lmRaw: h["Last-Modified"]}
	if len(v.etagRaw) == 1 {
		v.etag, v.etagOK = precond.ParseETag(v.etagRaw[0])
	}
	if len(v.lmRaw) == 1 {
		v.lmValue = httplex.TrimOWS(v.lmRaw[0])
		v.lm, v.lmForm = parseDate(v.lmValue)
		v.lmOK = v.lmForm != dateInvalid
	}
	v.date, v.dateFrom = now, "the local clock"
	if d, form := parseDate(h.Get("Date")); form != dateInvalid {
		v.date, v.dateFrom = d, "Date"
	}
	return v
}

// dateForm says which of the formats of RFC 9110 §5.6.7 a date is in.
type dateForm uint8

const (
	dateInvalid  dateForm = iota // not an HTTP-date
	dateIMF                      // IMF-fixdate, the one format senders must generate
	dateObsolete                 // RFC 850, asctime or an IMF-fixdate with the wrong day name: accepted, never to be generated
)

// parseDate parses an HTTP-date and says which form it has
// (RFC 9110 §5.6.7). IMF-fixdate must be exact: its day name must match
// its date and there is no extra whitespace.
func parseDate(s string) (time.Time, dateForm) {
	t, err := http.ParseTime(s)
	if err != nil {
		return time.Time{}, dateInvalid
	}
	if t.UTC().Format(http.TimeFormat) == s {
		return t, dateIMF
	}
	return t, dateObsolete
}

// checkStatus notes a first GET that did not give 200: the conditional
// probes need one (RFC 9110 §13.2.1).
func checkStatus(f *findings, get *Exchange) {
	switch s := get.status(); {
	case s == http.StatusOK:
	case s == http.StatusNotModified:
		f.add("unconditional-304", Must, "RFC 9110 §15.4.5",
			"A GET without any precondition got 304 Not Modified; a 304 answers only a conditional request.", "get")
	case s >= 300 && s < 400:
		f.add("redirect", Info, "RFC 9110 §13.2.1",
			fmt.Sprintf("The URL redirects (%d) to %s; preconditions do not apply to a redirect, so only caching was checked. Audit the target, or follow redirects.", s, get.header().Get("Location")), "get")
	default:
		f.add("status-not-200", Info, "RFC 9110 §13.2.1",
			fmt.Sprintf("A plain GET got %d, not 200; preconditions are evaluated only for a 2xx, so only caching was checked.", s), "get")
	}
}

// checkValidators judges the ETag and Last-Modified of the first GET
// (RFC 9110 §8.8.2, §8.8.3).
func checkValidators(f *findings, get *Exchange, v validators) {
	switch {
	case len(v.etagRaw) == 0:
	case !v.etagOK:
		f.add("etag-syntax", Must, "RFC 9110 §8.8.3",
			fmt.Sprintf("ETag %s is not an entity-tag: the opaque tag must be in double quotes, optionally after W/, with one value only; clients cannot send it back.", quoteLines(v.etagRaw)), "get")
	case v.etag.Weak():
		f.add("etag-weak", OK, "RFC 9110 §8.8.1",
			fmt.Sprintf("ETag %s is weak: good for cache validation, not for Range or If-Match.", v.etag), "get")
	default:
		f.add("etag-strong", OK, "RFC 9110 §8.8.1",
			fmt.Sprintf("ETag %s is a valid strong entity tag.", v.etag), "get")
	}
	switch {
	case len(v.lmRaw) == 0:
	case len(v.lmRaw) > 1 || v.lmForm == dateInvalid:
		f.add("last-modified-syntax", Must, "RFC 9110 §8.8.2, §5.6.7",
			fmt.Sprintf("Last-Modified %s is not one HTTP-date; caches and clients will ignore it.", quoteLines(v.lmRaw)), "get")
	case v.lmForm == dateObsolete:
		f.add("last-modified-syntax", Must, "RFC 9110 §5.6.7",
			fmt.Sprintf("Last-Modified %q is not an IMF-fixdate (an obsolete format, or a day name that does not match the date); a sender must generate IMF-fixdate, such as %q.", v.lmValue, v.lm.UTC().Format(http.TimeFormat)), "get")
	}
	if v.lmOK {
		if v.lm.After(v.date.Add(lmSkew(v))) {
			f.add("last-modified-future", Must, "RFC 9110 §8.8.2.1",
				fmt.Sprintf("Last-Modified %s is later than %s (%s); an origin must send its own time instead of a future modification date.", v.lmValue, v.dateFrom, v.date.UTC().Format(http.TimeFormat)), "get")
		} else if v.lmForm == dateIMF {
			f.add("last-modified-valid", OK, "RFC 9110 §8.8.2",
				fmt.Sprintf("Last-Modified %s is a valid date, not later than %s.", v.lmValue, v.dateFrom), "get")
		}
	}
	switch {
	case len(v.etagRaw) == 0 && len(v.lmRaw) == 0:
		f.add("validators-missing", Should, "RFC 9110 §8.8.3.1, §8.8.2.1",
			"The response has neither ETag nor Last-Modified: nothing can be revalidated, so caches download it again each time it is stale.", "get")
	case len(v.etagRaw) == 0:
		f.add("etag-missing", Info, "RFC 9110 §8.8.3.1",
			"No ETag; Last-Modified alone validates at one-second resolution.", "get")
	case len(v.lmRaw) == 0:
		f.add("last-modified-missing", Info, "RFC 9110 §8.8.2.1",
			"No Last-Modified; the ETag does the validation (caches also use Last-Modified for heuristic freshness).", "get")
	}
}

// lmSkew is the clock difference tolerated when Last-Modified is compared
// with the local clock rather than the response's own Date.
func lmSkew(v validators) time.Duration {
	if v.dateFrom == "Date" {
		return 0
	}
	return time.Minute
}

// headFields are the fields HEAD must report as GET does, when GET
// reports them consistently (RFC 9110 §9.3.2).
var headFields = []string{"Etag", "Last-Modified", "Cache-Control", "Expires", "Vary",
	"Content-Type", "Content-Encoding", "Content-Language", "Content-Location", "Accept-Ranges"}

// checkHead compares the response to HEAD with the two GETs. A field
// counts only when both GETs agree on it, so fields that change on every
// response (Expires computed from the clock, say) are not blamed on HEAD
// (RFC 9110 §9.3.2).
func checkHead(f *findings, get, again, head *Exchange) {
	if head.Response == nil {
		return
	}
	if head.status() != get.status() {
		f.add("head-status-differs", Should, "RFC 9110 §9.3.2",
			fmt.Sprintf("HEAD got %d where GET got %d; HEAD should answer as GET would, without the content.", head.status(), get.status()), "get", "head")
		return
	}
	var diffs []string
	gh, ah, hh := get.header(), again.header(), head.header()
	for _, k := range headFields {
		g := strings.Join(gh[k], ", ")
		if again.Response != nil && strings.Join(ah[k], ", ") != g {
			continue
		}
		if h := strings.Join(hh[k], ", "); h != g {
			diffs = append(diffs, fmt.Sprintf("%s: GET %s, HEAD %s", display(k), orAbsent(g), orAbsent(h)))
		}
	}
	if g, h := gh.Get("Content-Length"), hh.Get("Content-Length"); g != "" && h != "" && g != h {
		diffs = append(diffs, fmt.Sprintf("Content-Length: GET %s, HEAD %s", g, h))
	}
	if len(diffs) > 0 {
		f.add("head-fields-differ", Should, "RFC 9110 §9.3.2",
			"HEAD should send the fields GET sends; caches freshen stored responses with HEAD (RFC 9111 §4.3.5). "+strings.Join(diffs, "; ")+".", "get", "head")
		return
	}
	f.add("head-matches-get", OK, "RFC 9110 §9.3.2",
		"HEAD reports the same validators and metadata as GET.", "get", "head")
}

// checkStability compares two plain GETs: the ETag must stay while the
// content does, and a strong one must change when the content changes
// (RFC 9110 §8.8.1, §8.8.3).
func checkStability(f *findings, get, again *Exchange) {
	if again.status() != http.StatusOK {
		return
	}
	t1, t2 := get.header().Get("Etag"), again.header().Get("Etag")
	same := bytes.Equal(get.content, again.content)
	switch {
	case t1 == "" && t2 == "":
		if !same {
			f.add("content-changes", Info, "RFC 9110 §8.8.1",
				"Two GETs in a row got different content.", "get", "get-again")
		}
	case same && t1 != t2:
		f.add("etag-unstable", Should, "RFC 9110 §8.8.3.1",
			fmt.Sprintf("Two GETs in a row got the same content with different ETags (%s, then %s): no If-None-Match can ever match, so caches download it again each time.", orAbsent(t1), orAbsent(t2)), "get", "get-again")
	case !same && t1 == t2:
		if tag, ok := precond.ParseETag(t1); ok && !tag.Weak() {
			f.add("strong-etag-reused", Must, "RFC 9110 §8.8.1",
				fmt.Sprintf("Two GETs in a row got different content with the same strong ETag %s; a strong validator changes whenever the content does (mark it weak if the difference does not matter).", t1), "get", "get-again")
		} else {
			f.add("content-changes", Info, "RFC 9110 §8.8.1",
				fmt.Sprintf("Two GETs in a row got different content with the same weak ETag %s: allowed, since a weak tag marks equivalent content.", orAbsent(t1)), "get", "get-again")
		}
	case !same:
		f.add("content-changes", Info, "RFC 9110 §8.8.1",
			"Two GETs in a row got different content, and the ETag changed with it.", "get", "get-again")
	default:
		f.add("etag-stable", OK, "RFC 9110 §8.8.1",
			"Two GETs in a row got the same content and the same ETag.", "get", "get-again")
	}
}

// quoteLines shows field lines for a message.
func quoteLines(lines []string) string {
	if len(lines) == 1 {
		return fmt.Sprintf("%q", lines[0])
	}
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = fmt.Sprintf("%q", l)
	}
	return strings.Join(q, " and ")
}

// orAbsent shows a field value, or "(absent)".
func orAbsent(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}

// otherForm returns the entity tag with the weakness indicator toggled:
// W/"x" for "x" and "x" for W/"x". A weak comparison matches both
// (RFC 9110 §8.8.3.2).
func otherForm(t precond.ETag) precond.ETag {
	if t.Weak() {
		return t[2:]
	}
	return "W/" + t
}
