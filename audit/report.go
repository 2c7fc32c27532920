// The report: findings, their verdicts and the probes that showed them.

package audit

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Verdict says how a finding stands against the RFCs.
type Verdict uint8

const (
	// Must means the URL violates a MUST (or MUST NOT) requirement.
	Must Verdict = iota
	// Should means the URL goes against a SHOULD (or SHOULD NOT)
	// recommendation, or does something the RFCs allow but that defeats
	// validation or caching.
	Should
	// OK means a requirement was tested and met.
	OK
	// Info is an observation: what caches compute, what a cache in front
	// said, a probe that could not apply.
	Info
)

var verdictNames = [...]string{"must", "should", "ok", "info"}

// String returns the verdict's name as it appears in JSON: "must",
// "should", "ok" or "info".
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "unknown"
}

// MarshalText encodes the verdict as its name.
func (v Verdict) MarshalText() ([]byte, error) {
	if int(v) >= len(verdictNames) {
		return nil, fmt.Errorf("audit: invalid verdict %d", v)
	}
	return []byte(verdictNames[v]), nil
}

// UnmarshalText decodes a verdict's name.
func (v *Verdict) UnmarshalText(b []byte) error {
	for i, n := range verdictNames {
		if string(b) == n {
			*v = Verdict(i)
			return nil
		}
	}
	return fmt.Errorf("audit: unknown verdict %q", b)
}

// Finding is one result of the audit.
type Finding struct {
	// ID names what was found, stably across releases, such as
	// "inm-list-not-matched". The IDs are listed in the package
	// documentation.
	ID string `json:"id"`
	// Verdict says how the finding stands against the RFCs.
	Verdict Verdict `json:"verdict"`
	// Section is the RFC section that sets the rule, such as
	// "RFC 9110 §13.1.2".
	Section string `json:"section"`
	// Message says what was seen and why it matters, in one sentence or
	// two.
	Message string `json:"message"`
	// Probes names the exchanges that showed it; see [Report.Probe].
	Probes []string `json:"probes"`
}

// RequestHead is what a probe sent.
type RequestHead struct {
	// Method is the request method.
	Method string `json:"method"`
	// Target is the request target: the URL's path and query.
	Target string `json:"target"`
	// Header holds the fields the audit set, in canonical form; the
	// client adds Host and the fields of its transport.
	Header http.Header `json:"header"`
}

// ResponseHead is what came back to a probe.
type ResponseHead struct {
	// Proto is the protocol version, such as "HTTP/1.1".
	Proto string `json:"proto"`
	// Status is the status code.
	Status int `json:"status"`
	// Header holds the response's header fields in canonical form.
	Header http.Header `json:"header"`
	// ContentBytes is how many bytes of content were read (at most
	// [Options.MaxContent]). For a 304 or a response to HEAD it is zero
	// unless content was found where none may be.
	ContentBytes int64 `json:"content_bytes"`
}

// Exchange is one probe: a request the audit sent and the response head
// it got, or the error that ended it.
type Exchange struct {
	// Name identifies the probe within a report, such as "inm-list".
	Name string `json:"name"`
	// Request is the request sent.
	Request RequestHead `json:"request"`
	// Response is nil when the request failed.
	Response *ResponseHead `json:"response"`
	// Error is the failure, when Response is nil.
	Error string `json:"error,omitempty"`

	content   []byte    // the content read, up to Options.MaxContent
	truncated bool      // content was longer than Options.MaxContent
	chunked   bool      // the response used chunked framing
	at        time.Time // when the request was sent, by Options.Now
}

// status returns the response's status code, or 0 when the request
// failed.
func (e *Exchange) status() int {
	if e == nil || e.Response == nil {
		return 0
	}
	return e.Response.Status
}

// header returns the response's header, or nil.
func (e *Exchange) header() http.Header {
	if e == nil || e.Response == nil {
		return nil
	}
	return e.Response.Header
}

// Counts holds how many findings of each verdict a report has.
type Counts struct {
	Must   int `json:"must"`
	Should int `json:"should"`
	OK     int `json:"ok"`
	Info   int `json:"info"`
}

// Freshness is what caches would compute for the response to a plain GET
// (RFC 9111 §3, §4.2).
type Freshness struct {
	// Shared is what a shared cache (a proxy, a CDN) would compute.
	Shared Lifetime `json:"shared"`
	// Private is what a private cache (a browser) would compute.
	Private Lifetime `json:"private"`
}

// Source says where a freshness lifetime comes from, or why a cache would
// not store the response at all.
type Source string

// The sources of a [Lifetime].
const (
	SourceSMaxAge       Source = "s-maxage"      // s-maxage, shared caches only (RFC 9111 §5.2.2.10)
	SourceMaxAge        Source = "max-age"       // max-age (§5.2.2.1)
	SourceExpires       Source = "expires"       // Expires minus Date (§5.3)
	SourceHeuristic     Source = "heuristic"     // 10 % of the time since Last-Modified (§4.2.2)
	SourceNone          Source = "none"          // stored, but stale at once: no explicit or heuristic lifetime
	SourceNoStore       Source = "no-store"      // not stored: no-store (§5.2.2.5)
	SourcePrivate       Source = "private"       // not stored by a shared cache: private (§5.2.2.7)
	SourceAuthorization Source = "authorization" // not stored by a shared cache: the request had Authorization (§3.5)
	SourceStatus        Source = "status"        // not stored: status not heuristically cacheable and no explicit freshness (§3)
)

// Lifetime is one cache's view of a response.
type Lifetime struct {
	// Stores reports whether the cache may store the response.
	Stores bool `json:"stores"`
	// Seconds is the freshness lifetime; zero when not stored or stale
	// at once.
	Seconds int64 `json:"lifetime_seconds"`
	// Source is where Seconds comes from, or why the response is not
	// stored.
	Source Source `json:"source"`
	// ValidateEveryUse reports a no-cache directive: the cache must
	// validate the stored response before each reuse (RFC 9111
	// §5.2.2.4), whatever its lifetime.
	ValidateEveryUse bool `json:"validate_every_use"`
}

// Round is one GET of the watch that [Options.Repeat] asks for.
type Round struct {
	// Probe is the exchange's name, such as "watch-2".
	Probe string `json:"probe"`
	// OffsetSeconds is the time since the first round, by [Options.Now].
	OffsetSeconds int64 `json:"offset_seconds"`
	// Status is the response's status, 0 when the request failed.
	Status int `json:"status"`
	// Age is the Age field's value (RFC 9111 §5.1), nil when absent or
	// invalid.
	Age *int64 `json:"age"`
	// CacheStatus is the Cache-Status field as received (RFC 9211).
	CacheStatus string `json:"cache_status,omitempty"`
	// ETag is the ETag field as received.
	ETag string `json:"etag,omitempty"`
	// Event says what this round shows, against the round before it (the
	// first against the first GET): "hit" (answered from a cache's
	// store), "revalidated" (a cache validated its stored response with
	// the origin), "refetched" (a cache, or no cache, went to the
	// origin), "changed" (the ETag changed), "stale" (a stale response,
	// see the cache-served-stale findings) or "failed".
	Event string `json:"event"`
}

// Report is the result of auditing one URL.
type Report struct {
	// URL is the URL audited, as given.
	URL string `json:"url"`
	// Time is when the audit started, by [Options.Now], to the second.
	Time time.Time `json:"checked_at"`
	// Error says why the URL could not be audited at all (an invalid
	// URL, a failed first request); there are no findings then.
	Error string `json:"error,omitempty"`
	// Status is the status of the first plain GET.
	Status int `json:"status"`
	// ETag and LastModified are the validators of the first plain GET, as
	// received.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Freshness is what caches would compute for the first plain GET.
	Freshness *Freshness `json:"freshness,omitempty"`
	// Counts sums the findings by verdict.
	Counts Counts `json:"counts"`
	// Findings are sorted by verdict (must first), then by ID.
	Findings []Finding `json:"findings"`
	// Probes are the exchanges in the order they were sent.
	Probes []*Exchange `json:"probes"`
	// Watch holds the rounds of [Options.Repeat], if any.
	Watch []Round `json:"watch,omitempty"`
}

// Probe returns the exchange named name, or nil.
func (r *Report) Probe(name string) *Exchange {
	for _, e := range r.Probes {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Find returns the finding with the given ID, or nil.
func (r *Report) Find(id string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].ID == id {
			return &r.Findings[i]
		}
	}
	return nil
}

// Failed reports whether the report violates a MUST or could not be
// made: what makes "notmod check" exit with a non-zero status.
func (r *Report) Failed() bool { return r.Error != "" || r.Counts.Must > 0 }

// finish sorts the findings and counts them.
func (r *Report) finish() {
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		if c := cmp.Compare(a.Verdict, b.Verdict); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	r.Counts = Counts{}
	for _, f := range r.Findings {
		switch f.Verdict {
		case Must:
			r.Counts.Must++
		case Should:
			r.Counts.Should++
		case OK:
			r.Counts.OK++
		default:
			r.Counts.Info++
		}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Probes == nil {
		r.Probes = []*Exchange{}
	}
}

// findings collects the findings of one audit. A finding with an ID
// already present gains the new probes instead of repeating.
type findings struct {
	list []Finding
}

// add records a finding; probes name the exchanges that showed it.
func (f *findings) add(id string, v Verdict, section, msg string, probes ...string) {
	for i := range f.list {
		if f.list[i].ID == id {
			for _, p := range probes {
				if !slices.Contains(f.list[i].Probes, p) {
					f.list[i].Probes = append(f.list[i].Probes, p)
				}
			}
			return
		}
	}
	if probes == nil {
		probes = []string{}
	}
	f.list = append(f.list, Finding{ID: id, Verdict: v, Section: section, Message: msg, Probes: slices.Clone(probes)})
}

// has reports whether a finding with the ID was recorded.
func (f *findings) has(id string) bool {
	for _, x := range f.list {
		if x.ID == id {
			return true
		}
	}
	return false
}
