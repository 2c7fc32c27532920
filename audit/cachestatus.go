// RFC 9111 §5.1 and RFC 9211: the Age and Cache-Status a cache in front
// of the URL adds, read and explained; and RFC 9111 §4, §4.2.4: whether
// that cache reused a response it may not.

package audit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dunglas/httpsfv"
	"github.com/notmod/notmod/cachecontrol"
	"github.com/notmod/notmod/internal/httplex"
)

// AgeStatus says what an Age field holds (RFC 9111 §5.1).
type AgeStatus uint8

const (
	// AgeAbsent means there is no Age field.
	AgeAbsent AgeStatus = iota
	// AgeValid means one delta-seconds.
	AgeValid
	// AgeList means a list or several field lines whose first member is
	// a valid delta-seconds: a cache uses that member, but Age is a
	// singleton field and a sender must not make a list of it.
	AgeList
	// AgeInvalid means something other than a non-negative integer; a
	// cache ignores it.
	AgeInvalid
)

var ageStatusNames = [...]string{"absent", "valid", "list", "invalid"}

// String returns the status's name, such as "valid".
func (s AgeStatus) String() string {
	if int(s) < len(ageStatusNames) {
		return ageStatusNames[s]
	}
	return "unknown"
}

// maxDeltaSeconds is the largest delta-seconds a recipient keeps: larger
// values mean 2^31 (RFC 9111 §1.2.2).
const maxDeltaSeconds = 1 << 31

// ParseAge parses the field lines of an Age field (RFC 9111 §5.1): one
// delta-seconds, a non-negative integer of seconds, capped at 2^31
// (§1.2.2). Of a list, the first member is used, as §5.1 asks of caches,
// and the status says it was a list. seconds is 0 unless the status is
// AgeValid or AgeList.
func ParseAge(lines []string) (seconds int64, status AgeStatus) {
	if len(lines) == 0 {
		return 0, AgeAbsent
	}
	n := 0
	first := ""
	for e := range httplex.ElementsOf(lines) {
		if n == 0 {
			first = e
		}
		n++
	}
	if first == "" {
		return 0, AgeInvalid
	}
	for i := 0; i < len(first); i++ {
		c := first[i]
		if c < '0' || c > '9' {
			return 0, AgeInvalid
		}
		if seconds < maxDeltaSeconds {
			seconds = seconds*10 + int64(c-'0')
		}
	}
	seconds = min(seconds, maxDeltaSeconds)
	if n > 1 || len(lines) > 1 {
		return seconds, AgeList
	}
	return seconds, AgeValid
}

// CacheStatus is one member of a Cache-Status field: what one cache did
// with the request (RFC 9211 §2). The first member is the cache nearest
// the origin, the last the one nearest the client.
type CacheStatus struct {
	// Cache identifies the cache, a String or Token.
	Cache string
	// Hit reports that the cache answered from its store without going
	// forward (§2.1).
	Hit bool
	// Fwd says why the request went forward, such as "uri-miss" or
	// "stale"; "" when it did not (§2.2).
	Fwd string
	// FwdStatus is the status the next hop answered with; 0 when absent
	// (§2.3).
	FwdStatus int64
	// TTL is the response's remaining freshness in seconds, negative when
	// stale; valid when HasTTL (§2.4).
	TTL    int64
	HasTTL bool
	// Stored reports that the cache stored the response (§2.5).
	Stored bool
	// Collapsed reports that the request was collapsed with others
	// (§2.6).
	Collapsed bool
	// Key is the cache key, as the cache shows it (§2.7).
	Key string
	// Detail is implementation-specific detail (§2.8).
	Detail string
	// Extensions lists the names of parameters RFC 9211 does not define.
	Extensions []string
}

// ParseCacheStatus parses the field lines of a Cache-Status field, a
// Structured Field List (RFC 9211 §2, RFC 8941), into its members in
// order. It fails when the field is not a valid List, when a member is an
// inner list or its cache identifier is not a String or Token, and when a
// parameter of RFC 9211 has a value of the wrong type. No lines give no
// members and no error.
func ParseCacheStatus(lines []string) ([]CacheStatus, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	list, err := httpsfv.UnmarshalList(lines)
	if err != nil {
		return nil, fmt.Errorf("audit: Cache-Status is not a Structured Field List: %w", err)
	}
	out := make([]CacheStatus, 0, len(list))
	for i, m := range list {
		item, ok := m.(httpsfv.Item)
		if !ok {
			return nil, fmt.Errorf("audit: Cache-Status member %d is an inner list", i+1)
		}
		var cs CacheStatus
		switch v := item.Value.(type) {
		case string:
			cs.Cache = v
		case httpsfv.Token:
			cs.Cache = string(v)
		default:
			return nil, fmt.Errorf("audit: Cache-Status member %d: the cache identifier is not a String or Token", i+1)
		}
		if item.Params != nil {
			for _, name := range item.Params.Names() {
				v, _ := item.Params.Get(name)
				if err := cs.set(name, v); err != nil {
					return nil, fmt.Errorf("audit: Cache-Status member %d (%s): %w", i+1, cs.Cache, err)
				}
			}
		}
		out = append(out, cs)
	}
	return out, nil
}

// errParamType is returned for a parameter whose value has the wrong type.
var errParamType = errors.New("wrong type")

// set records the parameter name with value v.
func (cs *CacheStatus) set(name string, v any) error {
	ok := true
	switch name {
	case "hit":
		cs.Hit, ok = v.(bool)
	case "fwd":
		var t httpsfv.Token
		t, ok = v.(httpsfv.Token)
		cs.Fwd = string(t)
	case "fwd-status":
		cs.FwdStatus, ok = v.(int64)
	case "ttl":
		cs.TTL, ok = v.(int64)
		cs.HasTTL = ok
	case "stored":
		cs.Stored, ok = v.(bool)
	case "collapsed":
		cs.Collapsed, ok = v.(bool)
	case "key":
		cs.Key, ok = v.(string)
	case "detail":
		switch d := v.(type) {
		case string:
			cs.Detail = d
		case httpsfv.Token:
			cs.Detail = string(d)
		default:
			ok = false
		}
	default:
		cs.Extensions = append(cs.Extensions, name)
	}
	if !ok {
		return fmt.Errorf("%s: %w", name, errParamType)
	}
	return nil
}

// fwdReasons explains the values of fwd (RFC 9211 §2.2).
var fwdReasons = map[string]string{
	"bypass":    "it is configured not to handle this request",
	"method":    "the method must go to the origin",
	"uri-miss":  "nothing was stored for this URL",
	"vary-miss": "nothing stored for this URL matched the request's Vary fields",
	"miss":      "nothing stored could be used",
	"request":   "the request's directives forbade using the fresh stored response",
	"stale":     "the stored response was stale",
	"partial":   "only part of the response was stored",
}

// Explain says in words what the cache did.
func (cs CacheStatus) Explain() string {
	var parts []string
	switch {
	case cs.Hit:
		parts = append(parts, "answered from its store (hit)")
	case cs.Fwd != "":
		why := fwdReasons[cs.Fwd]
		if why == "" {
			why = "reason " + cs.Fwd
		}
		parts = append(parts, fmt.Sprintf("went to the origin because %s (fwd=%s)", why, cs.Fwd))
	default:
		parts = append(parts, "neither hit nor fwd")
	}
	if cs.FwdStatus != 0 {
		parts = append(parts, fmt.Sprintf("the next hop answered %d", cs.FwdStatus))
	}
	if cs.Stored {
		parts = append(parts, "stored the response")
	}
	if cs.Collapsed {
		parts = append(parts, "collapsed the request with others")
	}
	if cs.HasTTL {
		if cs.TTL >= 0 {
			parts = append(parts, fmt.Sprintf("%d s of freshness left", cs.TTL))
		} else {
			parts = append(parts, fmt.Sprintf("stale by %d s", -cs.TTL))
		}
	}
	if cs.Key != "" {
		parts = append(parts, fmt.Sprintf("key %q", cs.Key))
	}
	if cs.Detail != "" {
		parts = append(parts, fmt.Sprintf("detail %q", cs.Detail))
	}
	return cs.Cache + " " + strings.Join(parts, ", ")
}

// explainCache reports what the Age and Cache-Status of the exchanges
// say, one after the other (RFC 9111 §5.1, RFC 9211 §2).
func explainCache(f *findings, exs ...*Exchange) {
	var ages, statuses, agesFrom, statusesFrom []string
	for _, ex := range exs {
		h := ex.header()
		if age, ast := ParseAge(h["Age"]); ast == AgeValid {
			ages = append(ages, fmt.Sprintf("%s: Age %d", ex.Name, age))
			agesFrom = append(agesFrom, ex.Name)
		}
		entries, err := ParseCacheStatus(h["Cache-Status"])
		if err != nil || len(entries) == 0 {
			continue
		}
		said := make([]string, len(entries))
		for i, e := range entries {
			said[i] = e.Explain()
		}
		statuses = append(statuses, ex.Name+": "+strings.Join(said, "; then "))
		statusesFrom = append(statusesFrom, ex.Name)
	}
	if len(ages) > 0 {
		f.add("age", Info, "RFC 9111 §5.1, §4.2.3",
			"A cache answered from its store, Age seconds after the origin generated or validated the response: "+strings.Join(ages, "; ")+".", agesFrom...)
	}
	if len(statuses) > 0 {
		f.add("cache-status", Info, "RFC 9211 §2",
			"Cache-Status, from the cache nearest the origin to the one nearest the client: "+strings.Join(statuses, ". ")+".", statusesFrom...)
	}
}

// checkCacheInFront reads the Age and Cache-Status of ex and judges what
// the cache that added them did: an Age on every reuse (RFC 9111 §4), no
// stale response where the directives forbid it (§4.2.4), no reuse of a
// no-cache response without validation (§5.2.2.4).
func checkCacheInFront(f *findings, ex *Exchange) {
	h := ex.header()
	age, ast := ParseAge(h["Age"])
	if ast == AgeInvalid || ast == AgeList {
		what := "caches ignore it"
		if ast == AgeList {
			what = "caches use its first member"
		}
		f.add("age-invalid", Must, "RFC 9111 §5.1",
			fmt.Sprintf("Age %s is not one non-negative integer; %s.", quoteLines(h["Age"]), what), ex.Name)
	}
	entries, err := ParseCacheStatus(h["Cache-Status"])
	if err != nil {
		f.add("cache-status-syntax", Must, "RFC 9211 §2",
			fmt.Sprintf("Cache-Status %s cannot be read: %v.", quoteLines(h["Cache-Status"]), err), ex.Name)
	}
	hit := false
	for _, e := range entries {
		hit = hit || e.Hit
		if e.Hit && e.Fwd != "" {
			f.add("cache-status-hit-and-fwd", Should, "RFC 9211 §2.1",
				fmt.Sprintf("Cache-Status member %s has both hit and fwd; only one should appear.", e.Cache), ex.Name)
		}
	}
	if hit && ast == AgeAbsent {
		f.add("cache-hit-without-age", Must, "RFC 9111 §4, §5.1",
			"Cache-Status says a cache answered from its store, but there is no Age; a cache that reuses a stored response must send its age.", ex.Name)
	}
	if ast != AgeValid && ast != AgeList {
		return
	}
	l := freshnessOf(ex, false).Shared
	if !l.Stores || !l.explicit() {
		return
	}
	cc := cachecontrol.ParseResponse(h["Cache-Control"])
	if l.ValidateEveryUse {
		if hit {
			f.add("cache-reused-no-cache", Must, "RFC 9111 §4, §5.2.2.4",
				"A cache answered from its store (hit) a response marked no-cache, which it must validate before every reuse.", ex.Name)
		}
		return
	}
	if age <= l.Seconds {
		return
	}
	forbidden := cc.MustRevalidate() || cc.ProxyRevalidate() || l.Source == SourceSMaxAge
	swr, _ := cc.StaleWhileRevalidate()
	sie, _ := cc.StaleIfError()
	switch {
	case !forbidden && age <= l.Seconds+int64(swr.Seconds()):
		f.add("cache-served-stale-allowed", Info, "RFC 9111 §4.2.4; RFC 5861 §3",
			fmt.Sprintf("Age %d exceeds the %d s lifetime: a stale response, which stale-while-revalidate allows while the cache revalidates.", age, l.Seconds), ex.Name)
	case !forbidden && age <= l.Seconds+int64(sie.Seconds()):
		f.add("cache-served-stale-allowed", Info, "RFC 9111 §4.2.4; RFC 5861 §4",
			fmt.Sprintf("Age %d exceeds the %d s lifetime: a stale response, which stale-if-error allows if the origin failed.", age, l.Seconds), ex.Name)
	default:
		f.add("cache-served-stale", Must, "RFC 9111 §4.2.4",
			fmt.Sprintf("Age %d exceeds the %d s freshness lifetime (%s), and nothing allows serving it stale; a cache must not send a stale response unless disconnected or permitted.", age, l.Seconds, l.Source), ex.Name)
	}
}
