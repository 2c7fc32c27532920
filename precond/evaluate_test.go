package precond

import (
	"net/http"
	"testing"
	"time"
)

func TestEvaluate(t *testing.T) {
	modTime := time.Date(2023, 11, 21, 8, 44, 28, 0, time.UTC)
	modStr := modTime.Format(http.TimeFormat)
	date := modTime.Add(time.Hour)
	withETag := Validators{ETag: `"foo"`, LastModified: modTime, Date: date}
	weakETag := Validators{ETag: `W/"A"`, LastModified: modTime, Date: date}
	etagA := Validators{ETag: `"A"`, Date: date}
	onlyDate := Validators{LastModified: modTime, Date: date}
	noValidators := Validators{Date: date}
	missing := Validators{Missing: true}

	type hdr = map[string]string
	tests := map[string]struct {
		v    Validators
		h    hdr
		want Outcome
	}{
		// §13.2.2: no preconditions, nothing to decide.
		"no_conditions": {withETag, hdr{}, Proceed},
		"no_validators": {noValidators, hdr{"If-None-Match": `"foo"`}, Proceed},
		// §13.1.3: Last-Modified equal to If-Modified-Since is not modified.
		"not_modified_modtime": {onlyDate, hdr{"If-Modified-Since": modStr}, NotModified},
		// §13.1.3: compared at second precision.
		"not_modified_modtime_nanos": {Validators{LastModified: modTime.Add(500 * time.Millisecond)}, hdr{"If-Modified-Since": modStr}, NotModified},
		// §13.1.3: modified after the date.
		"modified_since": {onlyDate, hdr{"If-Modified-Since": modTime.Add(-time.Second).Format(http.TimeFormat)}, Proceed},
		// §13.1.3: a date in the future is not special (the seed scenario).
		"if_modified_since_future": {onlyDate, hdr{"If-Modified-Since": "Tue, 21 Nov 2050 08:00:00 GMT"}, NotModified},
		// §13.1.3: an invalid date is ignored.
		"if_modified_since_invalid": {onlyDate, hdr{"If-Modified-Since": "yesterday"}, Proceed},
		// §13.1.3: a list of dates is ignored.
		"if_modified_since_list": {onlyDate, hdr{"If-Modified-Since": modStr + ", " + modStr}, Proceed},
		// §5.6.7: RFC 850 and asctime dates are accepted.
		"if_modified_since_rfc850":  {onlyDate, hdr{"If-Modified-Since": "Tuesday, 21-Nov-23 08:44:28 GMT"}, NotModified},
		"if_modified_since_asctime": {onlyDate, hdr{"If-Modified-Since": "Tue Nov 21 08:44:28 2023"}, NotModified},
		// §13.1.3: ignored when there is no modification date.
		"if_modified_since_no_lastmod": {etagA, hdr{"If-Modified-Since": modStr}, Proceed},
		// §13.1.2: matching If-None-Match gives 304.
		"not_modified_etag": {withETag, hdr{"If-None-Match": `"foo"`}, NotModified},
		// §8.8.3.2: the comparison is case-sensitive.
		"if_none_match_mismatch": {withETag, hdr{"If-None-Match": `"Foo"`}, Proceed},
		// §13.1.2: a malformed list matches nothing.
		"if_none_match_malformed": {withETag, hdr{"If-None-Match": `,`}, Proceed},
		"if_none_match_unquoted":  {withETag, hdr{"If-None-Match": `foo`}, Proceed},
		"if_none_match_bad_list":  {withETag, hdr{"If-None-Match": `"foo" "bar"`}, Proceed},
		// §13.1.2: a list containing the tag matches.
		"if_none_match_list":           {withETag, hdr{"If-None-Match": `"a", "b" ,W/"foo"`}, NotModified},
		"if_none_match_list_without":   {withETag, hdr{"If-None-Match": `"a", "b"`}, Proceed},
		"if_none_match_empty_elements": {withETag, hdr{"If-None-Match": `, ,"foo",`}, NotModified},
		// §8.8.3: a comma is a valid etagc inside the quotes.
		"if_none_match_comma_in_tag": {Validators{ETag: `"a,b"`}, hdr{"If-None-Match": `"x", "a,b"`}, NotModified},
		// §13.1.2: If-None-Match uses the weak comparison.
		"if_none_match_weak_request": {withETag, hdr{"If-None-Match": `W/"foo"`}, NotModified},
		"if_none_match_weak_current": {weakETag, hdr{"If-None-Match": `"A"`}, NotModified},
		// §13.1.2: `*` matches any current representation.
		"if_none_match_star":         {withETag, hdr{"If-None-Match": `*`}, NotModified},
		"if_none_match_star_missing": {missing, hdr{"If-None-Match": `*`}, Proceed},
		// §13.1.3: If-Modified-Since is ignored when If-None-Match is present.
		"ims_ignored_with_inm_mismatch": {withETag, hdr{"If-None-Match": `"bar"`, "If-Modified-Since": modStr}, Proceed},
		"ims_ignored_with_inm_match":    {withETag, hdr{"If-None-Match": `"foo"`, "If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"}, NotModified},
		// §13.1.1: If-Match with a matching tag in a list proceeds.
		"ifmatch_matches": {etagA, hdr{"If-Match": `"Z", "A"`}, Proceed},
		// §13.1.1: `*` matches any current representation.
		"ifmatch_star":         {etagA, hdr{"If-Match": `*`}, Proceed},
		"ifmatch_star_missing": {missing, hdr{"If-Match": `*`}, PreconditionFailed},
		// §13.1.1: If-Match fails with 412.
		"ifmatch_failed": {etagA, hdr{"If-Match": `"B"`}, PreconditionFailed},
		// §13.1.1: If-Match uses the strong comparison.
		"ifmatch_fails_on_weak_etag":    {weakETag, hdr{"If-Match": `W/"A"`}, PreconditionFailed},
		"ifmatch_fails_on_weak_request": {etagA, hdr{"If-Match": `W/"A"`}, PreconditionFailed},
		// §13.1.1: no current entity tag: a list cannot match.
		"ifmatch_no_etag": {onlyDate, hdr{"If-Match": `"A"`}, PreconditionFailed},
		// §13.1.1: a malformed list matches nothing.
		"ifmatch_malformed": {etagA, hdr{"If-Match": `A`}, PreconditionFailed},
		"ifmatch_star_list": {etagA, hdr{"If-Match": `*, "A"`}, PreconditionFailed},
		// §13.2.2: If-Match is evaluated before If-None-Match.
		"ifmatch_before_inm": {etagA, hdr{"If-Match": `"B"`, "If-None-Match": `"A"`}, PreconditionFailed},
		"ifmatch_then_inm":   {etagA, hdr{"If-Match": `"A"`, "If-None-Match": `"A"`}, NotModified},
		// §13.1.4: If-Unmodified-Since.
		"if_unmodified_since_true":  {onlyDate, hdr{"If-Unmodified-Since": modStr}, Proceed},
		"if_unmodified_since_false": {onlyDate, hdr{"If-Unmodified-Since": modTime.Add(-time.Hour).Format(http.TimeFormat)}, PreconditionFailed},
		// §13.1.4: an invalid date or a list of dates is ignored.
		"if_unmodified_since_invalid": {onlyDate, hdr{"If-Unmodified-Since": "nope"}, Proceed},
		"if_unmodified_since_list":    {onlyDate, hdr{"If-Unmodified-Since": "Mon, 01 Jan 1990 00:00:00 GMT, Mon, 01 Jan 1990 00:00:00 GMT"}, Proceed},
		// §13.1.4: ignored when there is no modification date.
		"if_unmodified_since_no_lastmod": {etagA, hdr{"If-Unmodified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"}, Proceed},
		// §13.1.4: ignored when If-Match is present.
		"ius_ignored_with_ifmatch": {withETag, hdr{"If-Match": `"foo"`, "If-Unmodified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"}, Proceed},
		// §13.2.2 step 2 then 3.
		"ius_true_then_inm": {withETag, hdr{"If-Unmodified-Since": modStr, "If-None-Match": `"foo"`}, NotModified},
		// §13.1.5: If-Range is ignored without Range.
		"if_range_without_range": {withETag, hdr{"If-Range": `"nope"`}, Proceed},
		// §13.1.5: If-Range with a matching strong tag honours Range.
		"range_match": {withETag, hdr{"Range": "bytes=0-4", "If-Range": `"foo"`}, Proceed},
		// §13.1.5: a weak tag never matches.
		"range_match_weak_etag": {weakETag, hdr{"Range": "bytes=0-4", "If-Range": `W/"A"`}, IgnoreRange},
		"range_no_match":        {withETag, hdr{"Range": "bytes=0-4", "If-Range": `"Not-A"`}, IgnoreRange},
		// §13.1.5, §8.8.2.2: a date that is a strong validator, matched exactly.
		"range_with_modtime":          {withETag, hdr{"Range": "bytes=0-4", "If-Range": modStr}, Proceed},
		"range_with_modtime_nanos":    {Validators{LastModified: modTime.Add(123), Date: date}, hdr{"Range": "bytes=0-4", "If-Range": modStr}, Proceed},
		"range_with_modtime_mismatch": {withETag, hdr{"Range": "bytes=0-4", "If-Range": modTime.Add(-time.Second).Format(http.TimeFormat)}, IgnoreRange},
		// §8.8.2.2: Last-Modified within a second of Date is weak.
		"range_with_weak_modtime": {Validators{LastModified: modTime, Date: modTime}, hdr{"Range": "bytes=0-4", "If-Range": modStr}, IgnoreRange},
		"range_with_invalid":      {withETag, hdr{"Range": "bytes=0-4", "If-Range": "garbage"}, IgnoreRange},
	}
	for name, tc := range tests {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			t.Run(name+"/"+method, func(t *testing.T) {
				h := http.Header{}
				for k, v := range tc.h {
					h.Set(k, v)
				}
				want := tc.want
				if method == http.MethodHead && want == IgnoreRange {
					want = Proceed // §14.2: Range is defined for GET only
				}
				if got := Evaluate(method, h, tc.v); got != want {
					t.Errorf("Evaluate = %v, want %v", got, want)
				}
			})
		}
	}
}

func TestEvaluateUnsafe(t *testing.T) {
	current := Validators{ETag: `"v2"`, LastModified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	tests := map[string]struct {
		method string
		v      Validators
		h      map[string]string
		want   Outcome
	}{
		// §13.1.1: lost-update prevention.
		"put_if_match_current": {"PUT", current, map[string]string{"If-Match": `"v2"`}, Proceed},
		"put_if_match_stale":   {"PUT", current, map[string]string{"If-Match": `"v1"`}, PreconditionFailed},
		"delete_if_match_weak": {"DELETE", current, map[string]string{"If-Match": `W/"v2"`}, PreconditionFailed},
		"patch_if_match_star":  {"PATCH", current, map[string]string{"If-Match": `*`}, Proceed},
		"put_if_match_missing": {"PUT", Validators{Missing: true}, map[string]string{"If-Match": `*`}, PreconditionFailed},
		// §13.1.2: If-None-Match: * prevents overwriting an existing resource.
		"put_inm_star_exists":  {"PUT", current, map[string]string{"If-None-Match": `*`}, PreconditionFailed},
		"put_inm_star_missing": {"PUT", Validators{Missing: true}, map[string]string{"If-None-Match": `*`}, Proceed},
		// §13.1.2: a failed If-None-Match on an unsafe method is 412, not 304.
		"post_inm_match": {"POST", current, map[string]string{"If-None-Match": `W/"v2"`}, PreconditionFailed},
		// §13.1.4: If-Unmodified-Since on PUT.
		"put_ius_old": {"PUT", current, map[string]string{"If-Unmodified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}, PreconditionFailed},
		"put_ius_ok":  {"PUT", current, map[string]string{"If-Unmodified-Since": "Tue, 02 Jan 2024 03:04:05 GMT"}, Proceed},
		// §13.1.3: If-Modified-Since applies to GET and HEAD only.
		"post_ims_ignored": {"POST", current, map[string]string{"If-Modified-Since": "Tue, 21 Nov 2050 08:00:00 GMT"}, Proceed},
		// §13.2.1: methods that do not select a representation ignore preconditions.
		"options_ignored": {"OPTIONS", current, map[string]string{"If-Match": `"nope"`}, Proceed},
		"trace_ignored":   {"TRACE", current, map[string]string{"If-None-Match": `*`}, Proceed},
		// §14.2: Range is only defined for GET; If-Range is not evaluated.
		"put_if_range": {"PUT", current, map[string]string{"Range": "bytes=0-1", "If-Range": `"nope"`}, Proceed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			if got := Evaluate(tc.method, h, tc.v); got != tc.want {
				t.Errorf("Evaluate(%s) = %v, want %v", tc.method, got, tc.want)
			}
		})
	}
}

func TestConditional(t *testing.T) {
	for name, tc := range map[string]struct {
		h    http.Header
		want bool
	}{
		"none":     {http.Header{}, false},
		"range":    {http.Header{"Range": {"bytes=0-1"}, "If-Range": {`"a"`}}, false},
		"inm":      {http.Header{"If-None-Match": {`"a"`}}, true},
		"ims":      {http.Header{"If-Modified-Since": {"x"}}, true},
		"if-match": {http.Header{"If-Match": {"*"}}, true},
		"ius":      {http.Header{"If-Unmodified-Since": {"x"}}, true},
	} {
		t.Run(name, func(t *testing.T) {
			if got := ConditionsOf("GET", tc.h).Conditional(); got != tc.want {
				t.Errorf("Conditional = %v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkEvaluate(b *testing.B) {
	v := Validators{ETag: `"e27d81b845c3716cdb5d4220d78e2799"`, LastModified: time.Unix(1700000000, 0)}
	for name, h := range map[string]http.Header{
		"single_etag": {"If-None-Match": {`"e27d81b845c3716cdb5d4220d78e2799"`}},
		"etag_list":   {"If-None-Match": {`"a", "b", W/"e27d81b845c3716cdb5d4220d78e2799"`}},
		"ims":         {"If-Modified-Since": {"Tue, 21 Nov 2050 08:00:00 GMT"}},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if Evaluate(http.MethodGet, h, v) != NotModified {
					b.Fatal("want 304")
				}
			}
		})
	}
}
