package audit

import (
	"net/http"
	"testing"
	"time"
)

// TestFreshness checks what a shared and a private cache compute for a
// response (RFC 9111 §3, §4.2.1, §4.2.2).
func TestFreshness(t *testing.T) {
	date := testDate.Format(http.TimeFormat)
	type hdr = map[string]string
	tests := map[string]struct {
		status          int
		h               hdr
		auth            bool
		shared, private Lifetime
	}{
		// §4.2.1: max-age for both.
		"max_age": {200, hdr{"Cache-Control": "max-age=60"}, false,
			Lifetime{true, 60, SourceMaxAge, false}, Lifetime{true, 60, SourceMaxAge, false}},
		// §5.2.2.10: s-maxage for shared caches only.
		"s_maxage": {200, hdr{"Cache-Control": "s-maxage=300, max-age=60"}, false,
			Lifetime{true, 300, SourceSMaxAge, false}, Lifetime{true, 60, SourceMaxAge, false}},
		// §5.2.2.7: private keeps shared caches out.
		"private": {200, hdr{"Cache-Control": "private, max-age=60"}, false,
			Lifetime{false, 0, SourcePrivate, false}, Lifetime{true, 60, SourceMaxAge, false}},
		// §5.2.2.5: no-store keeps every cache out.
		"no_store": {200, hdr{"Cache-Control": "no-store, max-age=60"}, false,
			Lifetime{false, 0, SourceNoStore, false}, Lifetime{false, 0, SourceNoStore, false}},
		// §5.2.2.4: no-cache stores but validates every reuse.
		"no_cache": {200, hdr{"Cache-Control": "no-cache, max-age=60"}, false,
			Lifetime{true, 60, SourceMaxAge, true}, Lifetime{true, 60, SourceMaxAge, true}},
		// §5.3: Expires minus Date.
		"expires": {200, hdr{"Date": date, "Expires": testDate.Add(time.Hour).Format(http.TimeFormat)}, false,
			Lifetime{true, 3600, SourceExpires, false}, Lifetime{true, 3600, SourceExpires, false}},
		// §5.3: an invalid Expires is already expired.
		"expires_invalid": {200, hdr{"Date": date, "Expires": "0"}, false,
			Lifetime{true, 0, SourceExpires, false}, Lifetime{true, 0, SourceExpires, false}},
		// §4.2.1: max-age wins over Expires.
		"max_age_over_expires": {200, hdr{"Cache-Control": "max-age=10", "Date": date, "Expires": testDate.Add(time.Hour).Format(http.TimeFormat)}, false,
			Lifetime{true, 10, SourceMaxAge, false}, Lifetime{true, 10, SourceMaxAge, false}},
		// §4.2.2: 10 % of the time since Last-Modified.
		"heuristic": {200, hdr{"Date": date, "Last-Modified": testDate.Add(-10 * 24 * time.Hour).Format(http.TimeFormat)}, false,
			Lifetime{true, 86400, SourceHeuristic, false}, Lifetime{true, 86400, SourceHeuristic, false}},
		// §4.2.2: nothing to estimate from.
		"none": {200, hdr{"Date": date}, false,
			Lifetime{true, 0, SourceNone, false}, Lifetime{true, 0, SourceNone, false}},
		// §3: a status that is not heuristically cacheable, without explicit freshness.
		"status_500": {500, hdr{"Date": date}, false,
			Lifetime{false, 0, SourceStatus, false}, Lifetime{false, 0, SourceStatus, false}},
		// §3: ... unless explicit.
		"status_500_max_age": {500, hdr{"Cache-Control": "max-age=5"}, false,
			Lifetime{true, 5, SourceMaxAge, false}, Lifetime{true, 5, SourceMaxAge, false}},
		// §3.5: Authorization keeps shared caches out ...
		"authorization": {200, hdr{"Cache-Control": "max-age=60"}, true,
			Lifetime{false, 0, SourceAuthorization, false}, Lifetime{true, 60, SourceMaxAge, false}},
		// §3.5: ... unless public.
		"authorization_public": {200, hdr{"Cache-Control": "public, max-age=60"}, true,
			Lifetime{true, 60, SourceMaxAge, false}, Lifetime{true, 60, SourceMaxAge, false}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.h {
				h.Set(k, v)
			}
			ex := &Exchange{Response: &ResponseHead{Status: tt.status, Header: h}, at: testDate}
			got := freshnessOf(ex, tt.auth)
			if got.Shared != tt.shared {
				t.Errorf("shared %+v, want %+v", got.Shared, tt.shared)
			}
			if got.Private != tt.private {
				t.Errorf("private %+v, want %+v", got.Private, tt.private)
			}
		})
	}
}
