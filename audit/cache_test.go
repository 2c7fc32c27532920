package audit

import (
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/precond"
)

// TestCacheInFront audits origins whose responses carry what a cache in
// front would add, and checks what the audit makes of it.
func TestCacheInFront(t *testing.T) {
	type hdr = map[string]string
	tests := map[string]struct {
		cc      string
		fields  hdr
		want    string
		verdict Verdict
	}{
		// RFC 9111 §5.1: a valid Age is explained.
		"age": {fields: hdr{"Age": "5"}, want: "age", verdict: Info},
		// RFC 9211 §2: a valid Cache-Status is explained.
		"cache_status": {fields: hdr{"Age": "5", "Cache-Status": "edge; hit; ttl=55"}, want: "cache-status", verdict: Info},
		// RFC 9211 §2: not a Structured Field List.
		"cache_status_unparsable": {fields: hdr{"Cache-Status": `edge; hit, "unterminated`}, want: "cache-status-syntax", verdict: Must},
		// RFC 9211 §2.1: hit is a Boolean.
		"cache_status_wrong_type": {fields: hdr{"Cache-Status": "edge; hit=maybe"}, want: "cache-status-syntax", verdict: Must},
		// RFC 9211 §2: the cache identifier is a String or Token.
		"cache_status_integer_name": {fields: hdr{"Cache-Status": "42; hit"}, want: "cache-status-syntax", verdict: Must},
		// RFC 9211 §2.1: hit and fwd exclude each other.
		"hit_and_fwd": {fields: hdr{"Age": "1", "Cache-Status": "edge; hit; fwd=stale"}, want: "cache-status-hit-and-fwd", verdict: Should},
		// RFC 9111 §4: a reused response carries Age.
		"hit_without_age": {fields: hdr{"Cache-Status": "edge; hit"}, want: "cache-hit-without-age", verdict: Must},
		// RFC 9111 §5.1: Age is one non-negative integer.
		"age_negative": {fields: hdr{"Age": "-1"}, want: "age-invalid", verdict: Must},
		"age_list":     {fields: hdr{"Age": "5, 6"}, want: "age-invalid", verdict: Must},
		// RFC 9111 §4.2.4: stale without permission.
		"served_stale": {cc: "max-age=60", fields: hdr{"Age": "120"}, want: "cache-served-stale", verdict: Must},
		// RFC 5861 §3: stale-while-revalidate permits it.
		"stale_while_revalidate": {cc: "max-age=60, stale-while-revalidate=30", fields: hdr{"Age": "70"}, want: "cache-served-stale-allowed", verdict: Info},
		// RFC 9111 §5.2.2.2: must-revalidate forbids it even so.
		"stale_must_revalidate": {cc: "max-age=60, stale-while-revalidate=30, must-revalidate", fields: hdr{"Age": "70"}, want: "cache-served-stale", verdict: Must},
		// RFC 9111 §5.2.2.10: s-maxage forbids it for shared caches.
		"stale_s_maxage": {cc: "s-maxage=60, stale-while-revalidate=30", fields: hdr{"Age": "70"}, want: "cache-served-stale", verdict: Must},
		// RFC 9111 §5.2.2.4: no-cache is never reused without validation.
		"hit_no_cache": {cc: "no-cache, max-age=60", fields: hdr{"Age": "3", "Cache-Status": "edge; hit"}, want: "cache-reused-no-cache", verdict: Must},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			extra := http.Header{}
			for k, v := range tt.fields {
				extra.Set(k, v)
			}
			rep := audit(t, precond.Middleware(page(pageOptions{cacheControl: tt.cc, extra: extra})), Options{})
			f := rep.Find(tt.want)
			if f == nil {
				t.Fatalf("no %s finding; have %v", tt.want, ids(rep, Must, Should, OK, Info))
			}
			if f.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s: %s", f.Verdict, tt.verdict, f.Message)
			}
		})
	}
}

// TestDirectives checks the judgement of Cache-Control, Expires and
// Pragma in the first response.
func TestDirectives(t *testing.T) {
	expires := testDate.Add(time.Hour).Format(http.TimeFormat)
	tests := map[string]struct {
		cc      string
		fields  map[string]string
		want    string
		verdict Verdict
	}{
		// RFC 9111 §1.2.2: delta-seconds are digits.
		"max_age_not_a_number": {cc: "max-age=abc", want: "cache-control-syntax", verdict: Must},
		// RFC 9111 §5.2: whitespace around "=" is outside the grammar.
		"space_around_equals": {cc: "max-age = 60", want: "cache-control-syntax", verdict: Must},
		// RFC 9111 §4.2.1: a directive twice with different values.
		"duplicate": {cc: "max-age=60, max-age=120", want: "cache-control-duplicate", verdict: Should},
		// RFC 9111 §4.2.1: the most restrictive wins.
		"public_private":   {cc: "public, private, max-age=60", want: "cache-control-conflict", verdict: Info},
		"max_age_no_cache": {cc: "max-age=60, no-cache", want: "cache-control-conflict", verdict: Info},
		// RFC 9111 §5.2.2.5: no-store leaves nothing to apply the rest to.
		"no_store_max_age": {cc: "no-store, max-age=60", want: "cache-control-useless", verdict: Info},
		// RFC 9111 §5.2.2.7: private keeps shared caches out.
		"private_s_maxage": {cc: "private, s-maxage=60", want: "cache-control-useless", verdict: Info},
		// RFC 8246 §2: immutable needs a lifetime.
		"immutable_alone": {cc: "immutable", want: "cache-control-useless", verdict: Info},
		// RFC 9111 §5.3, RFC 9110 §5.6.7: Expires is an IMF-fixdate.
		"expires_zero": {cc: "-", fields: map[string]string{"Expires": "0"}, want: "expires-invalid", verdict: Must},
		// RFC 9111 §5.3: max-age overrides Expires.
		"expires_ignored": {cc: "max-age=60", fields: map[string]string{"Expires": expires}, want: "expires-ignored", verdict: Info},
		// RFC 9111 §5.4: Pragma means nothing in a response.
		"pragma": {fields: map[string]string{"Pragma": "no-cache"}, want: "pragma-in-response", verdict: Info},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			extra := http.Header{}
			for k, v := range tt.fields {
				extra.Set(k, v)
			}
			rep := audit(t, precond.Middleware(page(pageOptions{cacheControl: tt.cc, extra: extra})), Options{})
			f := rep.Find(tt.want)
			if f == nil {
				t.Fatalf("no %s finding; have %v", tt.want, ids(rep, Must, Should, Info))
			}
			if f.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s: %s", f.Verdict, tt.verdict, f.Message)
			}
		})
	}
}

// TestWatchThroughCache watches the shared cache over time with a clock
// that moves only when the audit sleeps: Age grows between hits, and the
// stale response is revalidated (RFC 9111 §4.2.3, §4.3).
func TestWatchThroughCache(t *testing.T) {
	clock := newFakeClock()
	o := precond.Middleware(page(pageOptions{cacheControl: "max-age=5", date: clock.Now}))
	rep := audit(t, cached(t, o, clock.Now), Options{Repeat: 4, Interval: 2 * time.Second, Now: clock.Now, Sleep: clock.Sleep})
	if len(rep.Watch) != 4 {
		t.Fatalf("%d rounds, want 4", len(rep.Watch))
	}
	var events []string
	var ages []int64
	for _, rd := range rep.Watch {
		events = append(events, rd.Event)
		if rd.Age != nil {
			ages = append(ages, *rd.Age)
		} else {
			ages = append(ages, -1)
		}
	}
	// The probes were sent at 0 s: the cache stored the response then.
	// Rounds at 2 and 4 s are hits; at 6 s it is stale and revalidated;
	// at 8 s a hit again.
	if want := []string{"hit", "hit", "revalidated", "hit"}; !slices.Equal(events, want) {
		t.Errorf("events %v, want %v (ages %v)", events, want, ages)
	}
	if want := []int64{2, 4, 0, 2}; !slices.Equal(ages, want) {
		t.Errorf("ages %v, want %v", ages, want)
	}
	if f := rep.Find("watch-age-grows"); f == nil || f.Verdict != OK {
		t.Errorf("no watch-age-grows; have %v", ids(rep, OK, Should))
	}
	if rep.Find("watch") == nil {
		t.Error("no watch summary")
	}
	if got := ids(rep, Must, Should); len(got) > 0 {
		t.Errorf("must/should findings:%s", summary(rep))
	}
}

// TestWatchFindings watches origins posing as caches.
func TestWatchFindings(t *testing.T) {
	tests := map[string]struct {
		fields  func(n int64) map[string]string // the fields of the nth response
		want    string
		verdict Verdict
	}{
		// RFC 9111 §4, §4.2.3: a hit carries the current age.
		"age_stuck": {
			fields:  func(int64) map[string]string { return map[string]string{"Age": "3", "Cache-Status": "edge; hit"} },
			want:    "watch-age-not-growing",
			verdict: Should,
		},
		// RFC 9111 §4.2.4: a round past the lifetime without permission.
		"stale_round": {
			fields: func(n int64) map[string]string {
				return map[string]string{"Age": strconv.FormatInt(n*10, 10), "Cache-Status": "edge; hit"}
			},
			want:    "cache-served-stale",
			verdict: Must,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			clock := newFakeClock()
			var n atomic.Int64
			h := misbehave(origin(), func(r *http.Request, serve func(*http.Request) *reply) *reply {
				rep := serve(r)
				for k, v := range tt.fields(n.Add(1)) {
					rep.header.Set(k, v)
				}
				return rep
			})
			rep := audit(t, h, Options{Repeat: 3, Interval: 10 * time.Second, Now: clock.Now, Sleep: clock.Sleep})
			f := rep.Find(tt.want)
			if f == nil {
				t.Fatalf("no %s; have %v", tt.want, ids(rep, Must, Should, OK, Info))
			}
			if f.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s", f.Verdict, tt.verdict)
			}
			if !slices.ContainsFunc(f.Probes, func(p string) bool { return len(p) > 6 && p[:6] == "watch-" }) {
				t.Errorf("%s names no watch round: %v", tt.want, f.Probes)
			}
		})
	}
}
