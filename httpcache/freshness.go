// RFC 9111 §4.2: freshness lifetime, heuristic freshness and age.

package httpcache

import (
	"net/http"
	"time"

	"github.com/notmod/notmod/cachecontrol"
	"github.com/notmod/notmod/internal/httplex"
)

// heuristicStatus lists the status codes that are heuristically cacheable
// (RFC 9110 §15.1, RFC 9111 §4.2.2).
func heuristicStatus(code int) bool {
	switch code {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// freshness is what §4.2.1 and §4.2.2 compute for a response.
type freshness struct {
	lifetime  time.Duration
	explicit  bool // from s-maxage, max-age or Expires
	heuristic bool
}

// lifetimeOf computes the freshness lifetime of a response (RFC 9111
// §4.2.1): s-maxage for a shared cache, then max-age, then Expires minus
// Date, then a heuristic for heuristically cacheable status codes: a
// fraction of the time since Last-Modified, at most maxHeuristic (§4.2.2).
// An invalid or repeated Expires means the response is already stale.
func lifetimeOf(cc cachecontrol.Response, h http.Header, status int, date, responseTime time.Time, shared bool, fraction float64, maxHeuristic time.Duration) freshness {
	if shared {
		if d, ok := cc.SMaxAge(); ok {
			return freshness{lifetime: d, explicit: true}
		}
	}
	if d, ok := cc.MaxAge(); ok {
		return freshness{lifetime: d, explicit: true}
	}
	// RFC 9213 §2.2: a targeted field governs alone; Expires is ignored.
	if exp, ok := h["Expires"]; ok && !cc.Targeted() {
		if len(exp) != 1 {
			return freshness{explicit: true}
		}
		t, err := http.ParseTime(exp[0])
		if err != nil {
			return freshness{explicit: true} // §5.3: invalid dates mean already expired
		}
		base := date
		if base.IsZero() {
			base = responseTime
		}
		d := t.Sub(base)
		if d < 0 {
			d = 0
		}
		return freshness{lifetime: d, explicit: true}
	}
	if !heuristicStatus(status) || cc.NoCache() {
		return freshness{}
	}
	lm, ok := singleTime(h["Last-Modified"])
	if !ok {
		return freshness{}
	}
	base := date
	if base.IsZero() {
		base = responseTime
	}
	since := base.Sub(lm)
	if since <= 0 {
		return freshness{}
	}
	d := time.Duration(float64(since) * fraction).Truncate(time.Second)
	if d > maxHeuristic {
		d = maxHeuristic
	}
	return freshness{lifetime: d, heuristic: d > 0}
}

// singleTime parses a field that holds exactly one HTTP-date.
func singleTime(lines []string) (time.Time, bool) {
	if len(lines) != 1 {
		return time.Time{}, false
	}
	t, err := http.ParseTime(httplex.TrimOWS(lines[0]))
	return t, err == nil
}

// ageValue parses the Age field (RFC 9111 §5.1): exactly one
// delta-seconds, capped at 2^31 (§1.2.2). Anything else — a list, several
// lines, a sign, a fraction, parameters — is treated as invalid freshness
// information, and the response as stale (§4.2.1): ageValue returns
// invalidAge. §5.1 says a cache SHOULD use the first member of a list and
// ignore an invalid value; notmod departs from that in the conservative
// direction, since an Age it cannot read may hide any age at all (the
// conformance suite expects the same, see README § Conformance).
func ageValue(lines []string) time.Duration {
	if len(lines) == 0 {
		return 0
	}
	if len(lines) > 1 {
		return invalidAge
	}
	s := httplex.TrimOWS(lines[0])
	if s == "" {
		return invalidAge
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return invalidAge
		}
		n = n*10 + int64(c-'0')
		if n > 1<<31 {
			n = 1 << 31 // §1.2.2
		}
	}
	return time.Duration(n) * time.Second
}

// invalidAge is the age given to a response whose Age is invalid: older
// than any freshness lifetime (2^31 seconds, §1.2.2).
const invalidAge = (1 << 31) * time.Second

// initialAge computes corrected_initial_age (RFC 9111 §4.2.3) from the Age
// and Date of a response and the times its request was sent and it was
// received.
func initialAge(age time.Duration, date, requestTime, responseTime time.Time) time.Duration {
	apparent := time.Duration(0)
	if !date.IsZero() {
		apparent = max(0, responseTime.Sub(date))
	}
	delay := max(0, responseTime.Sub(requestTime))
	return max(apparent, age+delay)
}

// currentAge is the age of e at now (RFC 9111 §4.2.3).
func (e *entry) currentAge(now time.Time) time.Duration {
	return e.initialAge + max(0, now.Sub(e.responseTime))
}
