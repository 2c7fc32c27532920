package httpcache

import (
	"net/http"
	"testing"
	"time"

	"github.com/notmod/notmod/cachecontrol"
)

func TestLifetimeOf(t *testing.T) {
	const day = 24 * time.Hour
	date := t0.Add(-10 * time.Second) // the origin's clock is 10 s behind
	type tc struct {
		status   int
		h        http.Header
		date     time.Time // Date, or zero when absent
		private  bool
		fraction float64 // 0 means 0.1
		want     freshness
	}
	tests := map[string]tc{
		// §4.2.1: a shared cache uses s-maxage first.
		"s-maxage before max-age in a shared cache": {
			h:    header("Cache-Control", "max-age=60, s-maxage=120", "Expires", httpDate(date.Add(time.Hour))),
			want: freshness{lifetime: 120 * time.Second, explicit: true},
		},
		// §4.2.1, §5.2.2.10: a private cache ignores s-maxage.
		"s-maxage ignored by a private cache": {
			h:       header("Cache-Control", "max-age=60, s-maxage=120"),
			private: true,
			want:    freshness{lifetime: 60 * time.Second, explicit: true},
		},
		// §4.2.1: without max-age a private cache falls through to Expires.
		"s-maxage alone in a private cache falls to Expires": {
			h:       header("Cache-Control", "s-maxage=120", "Expires", httpDate(date.Add(30*time.Second))),
			date:    date,
			private: true,
			want:    freshness{lifetime: 30 * time.Second, explicit: true},
		},
		// §4.2.1: max-age before Expires.
		"max-age before Expires": {
			h:    header("Cache-Control", "max-age=60", "Expires", httpDate(date.Add(time.Hour))),
			date: date,
			want: freshness{lifetime: 60 * time.Second, explicit: true},
		},
		// §4.2.1, §5.2.2.1: max-age=0 is explicit and already stale.
		"max-age=0": {
			h:    header("Cache-Control", "max-age=0", "Last-Modified", httpDate(date.Add(-day))),
			want: freshness{explicit: true},
		},
		// §4.2.1: Expires minus Date, not minus the time of receipt.
		"Expires minus Date": {
			h:    header("Expires", httpDate(date.Add(100*time.Second))),
			date: date,
			want: freshness{lifetime: 100 * time.Second, explicit: true},
		},
		// §4.2.1, RFC 9110 §6.6.1: without Date, the time of receipt.
		"Expires without Date uses the response time": {
			h:    header("Expires", httpDate(t0.Add(100*time.Second))),
			want: freshness{lifetime: 100 * time.Second, explicit: true},
		},
		// §4.2.1: an Expires before Date gives no freshness.
		"Expires in the past": {
			h:    header("Expires", httpDate(date.Add(-time.Hour))),
			date: date,
			want: freshness{explicit: true},
		},
		// §5.3: an invalid date, especially "0", is in the past.
		"invalid Expires is stale": {
			h:    header("Expires", "0", "Last-Modified", httpDate(date.Add(-day))),
			date: date,
			want: freshness{explicit: true},
		},
		// §4.2.1, §5.3: two Expires lines make the response stale.
		"duplicate Expires is stale": {
			h: header("Expires", httpDate(date.Add(time.Hour)),
				"Expires", httpDate(date.Add(time.Hour))),
			date: date,
			want: freshness{explicit: true},
		},
		// §4.2.2: no heuristic when Expires is present, even invalid.
		"Expires forbids the heuristic": {
			h:    header("Expires", "never", "Last-Modified", httpDate(date.Add(-10*day))),
			date: date,
			want: freshness{explicit: true},
		},
		// §4.2.2: 10% of the time between Date and Last-Modified.
		"heuristic is a tenth of Date minus Last-Modified": {
			h:    header("Last-Modified", httpDate(date.Add(-10*time.Hour))),
			date: date,
			want: freshness{lifetime: time.Hour, heuristic: true},
		},
		// §4.2.2: without Date, from the time of receipt.
		"heuristic without Date uses the response time": {
			h:    header("Last-Modified", httpDate(t0.Add(-10*time.Hour))),
			want: freshness{lifetime: time.Hour, heuristic: true},
		},
		// §4.2.2: the fraction is configurable.
		"heuristic fraction": {
			h:        header("Last-Modified", httpDate(date.Add(-10*time.Hour))),
			date:     date,
			fraction: 0.25,
			want:     freshness{lifetime: 150 * time.Minute, heuristic: true},
		},
		// §4.2.2: the heuristic lifetime is capped.
		"heuristic capped": {
			h:    header("Last-Modified", httpDate(date.Add(-100*day))),
			date: date,
			want: freshness{lifetime: day, heuristic: true},
		},
		// §4.2.2, RFC 9110 §15.1: 404 is heuristically cacheable.
		"heuristic for 404": {
			status: http.StatusNotFound,
			h:      header("Last-Modified", httpDate(date.Add(-10*time.Hour))),
			date:   date,
			want:   freshness{lifetime: time.Hour, heuristic: true},
		},
		// §4.2.2: 302 is not heuristically cacheable.
		"no heuristic for 302": {
			status: http.StatusFound,
			h:      header("Last-Modified", httpDate(date.Add(-10*time.Hour))),
			date:   date,
		},
		// §4.2.2: 500 is not heuristically cacheable.
		"no heuristic for 500": {
			status: http.StatusInternalServerError,
			h:      header("Last-Modified", httpDate(date.Add(-10*time.Hour))),
			date:   date,
		},
		// §4.2.2: nothing to base a heuristic on.
		"no heuristic without Last-Modified": {
			h:    header("Etag", `"a"`),
			date: date,
		},
		// §4.2.2: an invalid Last-Modified is ignored.
		"no heuristic with an invalid Last-Modified": {
			h:    header("Last-Modified", "yesterday"),
			date: date,
		},
		// §4.2.2: a Last-Modified after Date gives nothing.
		"no heuristic with Last-Modified after Date": {
			h:    header("Last-Modified", httpDate(date.Add(time.Hour))),
			date: date,
		},
		// §5.2.2.4: no-cache responses get no heuristic freshness.
		"no heuristic with no-cache": {
			h:    header("Cache-Control", "no-cache", "Last-Modified", httpDate(date.Add(-10*time.Hour))),
			date: date,
		},
		// §4.2.2: a zero fraction disables heuristic freshness.
		"heuristic disabled": {
			h:        header("Last-Modified", httpDate(date.Add(-10*time.Hour))),
			date:     date,
			fraction: -1,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			status := tt.status
			if status == 0 {
				status = http.StatusOK
			}
			fraction := tt.fraction
			switch {
			case fraction == 0:
				fraction = DefaultHeuristicFraction
			case fraction < 0:
				fraction = 0
			}
			cc := cachecontrol.ParseResponse(tt.h["Cache-Control"])
			got := lifetimeOf(cc, tt.h, status, tt.date, t0, !tt.private, fraction, DefaultMaxHeuristic)
			if got != tt.want {
				t.Errorf("lifetimeOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAgeValue(t *testing.T) {
	tests := map[string]struct {
		lines []string
		want  time.Duration
	}{
		// §4.2.3: age_value is 0 when Age is absent.
		"absent": {nil, 0},
		// §5.1: Age = delta-seconds.
		"zero":  {[]string{"0"}, 0},
		"valid": {[]string{"60"}, time.Minute},
		// RFC 9110 §5.5: surrounding whitespace is not part of the value.
		"whitespace": {[]string{" 60\t"}, time.Minute},
		// §1.2.2: the largest value kept as it is.
		"2^31-1": {[]string{"2147483647"}, 2147483647 * time.Second},
		// §1.2.2: larger values, however long, are 2^31.
		"2^31":     {[]string{"2147483648"}, 1 << 31 * time.Second},
		"2^31+1":   {[]string{"2147483649"}, 1 << 31 * time.Second},
		"overflow": {[]string{"9999999999999999999999999999999999"}, 1 << 31 * time.Second},
		// §4.2.1, §5.1: anything but one delta-seconds is invalid
		// freshness information and the response is stale.
		"list":           {[]string{"10, 20"}, invalidAge},
		"multiple lines": {[]string{"10", "20"}, invalidAge},
		"negative":       {[]string{"-1"}, invalidAge},
		"plus sign":      {[]string{"+1"}, invalidAge},
		"float":          {[]string{"1.5"}, invalidAge},
		"parameters":     {[]string{"10;a=b"}, invalidAge},
		"suffix":         {[]string{"10s"}, invalidAge},
		"prefix":         {[]string{"a10"}, invalidAge},
		"empty":          {[]string{""}, invalidAge},
		"quoted":         {[]string{`"10"`}, invalidAge},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ageValue(tt.lines); got != tt.want {
				t.Errorf("ageValue(%q) = %v, want %v", tt.lines, got, tt.want)
			}
		})
	}
}

func TestInitialAge(t *testing.T) {
	resp := t0
	tests := map[string]struct {
		age       time.Duration
		date      time.Time
		requested time.Time
		want      time.Duration
	}{
		// §4.2.3: nothing has aged.
		"new": {0, resp, resp, 0},
		// §4.2.3: apparent_age = response_time - date_value.
		"apparent age": {0, resp.Add(-10 * time.Second), resp, 10 * time.Second},
		// §4.2.3: a negative apparent age is replaced by zero.
		"Date in the future": {0, resp.Add(10 * time.Second), resp, 0},
		// §4.2.3: without Date only the corrected age counts.
		"no Date": {5 * time.Second, time.Time{}, resp.Add(-2 * time.Second), 7 * time.Second},
		// §4.2.3: corrected_age_value = age_value + response_delay.
		"response delay": {0, resp, resp.Add(-3 * time.Second), 3 * time.Second},
		"Age plus delay": {5 * time.Second, resp, resp.Add(-2 * time.Second), 7 * time.Second},
		// §4.2.3: the larger of the two.
		"corrected age wins": {30 * time.Second, resp.Add(-10 * time.Second), resp, 30 * time.Second},
		"apparent age wins":  {5 * time.Second, resp.Add(-60 * time.Second), resp.Add(-1 * time.Second), 60 * time.Second},
		// §4.2.3: a request time after the response time is no delay.
		"negative delay": {5 * time.Second, resp, resp.Add(time.Second), 5 * time.Second},
		// §4.2.1, §5.1: an invalid Age stays older than any lifetime.
		"invalid Age": {invalidAge, resp, resp, invalidAge},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := initialAge(tt.age, tt.date, tt.requested, resp); got != tt.want {
				t.Errorf("initialAge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCurrentAge(t *testing.T) {
	e := entry{initialAge: 5 * time.Second, responseTime: t0}
	tests := map[string]struct {
		now  time.Time
		want time.Duration
	}{
		// §4.2.3: current_age = corrected_initial_age + resident_time.
		"at receipt": {t0, 5 * time.Second},
		"resident":   {t0.Add(10 * time.Second), 15 * time.Second},
		// §4.2.3: a clock that went back adds nothing.
		"clock went back": {t0.Add(-time.Minute), 5 * time.Second},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := e.currentAge(tt.now); got != tt.want {
				t.Errorf("currentAge = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestNewEntryAge checks what a stored entry records of a response's age
// (§4.2.3) and freshness (§4.2.1).
func TestNewEntryAge(t *testing.T) {
	c, _ := newTestCache(t, Options{})
	requested := t0.Add(-2 * time.Second)
	h := header("Date", httpDate(t0.Add(-10*time.Second)), "Age", "20", "Cache-Control", "max-age=60")
	e, ttl := c.newEntry(h, http.StatusOK, []byte("x"), requested, t0, "")
	if e.initialAge != 22*time.Second {
		t.Errorf("initialAge = %v, want 22s (Age 20 + delay 2s > apparent 10s)", e.initialAge)
	}
	if e.lifetime != time.Minute {
		t.Errorf("lifetime = %v, want 1m", e.lifetime)
	}
	if want := 38*time.Second + DefaultKeepStale; ttl != want {
		t.Errorf("store ttl = %v, want %v", ttl, want)
	}
}

// RFC 9213 §2.2: with a valid CDN-Cache-Control, Expires is ignored.
func TestTargetedIgnoresExpires(t *testing.T) {
	c, clock := newTestCache(t, Options{})
	now := clock.Now()
	h := header("CDN-Cache-Control", "no-cache", "Expires", httpDate(now.Add(time.Hour)), "Date", httpDate(now))
	cc := c.responseDirectives(h)
	if !cc.Targeted() {
		t.Fatal("CDN-Cache-Control not used")
	}
	if f := lifetimeOf(cc, h, 200, now, now, true, 0.1, time.Hour); f.lifetime != 0 || f.explicit {
		t.Fatalf("lifetime %v explicit %v: Expires was used", f.lifetime, f.explicit)
	}
	h = header("CDN-Cache-Control", "max-age=30", "Expires", httpDate(now.Add(time.Hour)), "Date", httpDate(now))
	if f := lifetimeOf(c.responseDirectives(h), h, 200, now, now, true, 0.1, time.Hour); f.lifetime != 30*time.Second {
		t.Fatalf("lifetime %v, want 30s", f.lifetime)
	}
}
