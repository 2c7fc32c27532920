package audit

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/precond"
)

// gzipped wraps a correct origin in compression applied outside it, so
// that the entity tag made for the identity content also labels the gzip
// content, unless tag changes it. vary says whether Vary names
// Accept-Encoding.
func gzipped(next http.Handler, tag func(precond.ETag) precond.ETag, vary bool) http.Handler {
	return misbehave(next, func(r *http.Request, serve func(*http.Request) *reply) *reply {
		rep := serve(r)
		if !vary {
			rep.header.Del("Vary")
		}
		if rep.status != http.StatusOK || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			return rep
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(rep.body)
		zw.Close()
		if r.Method != http.MethodHead {
			rep.body = b.Bytes()
		}
		rep.header.Set("Content-Encoding", "gzip")
		rep.header.Set("Content-Length", strconv.Itoa(b.Len()))
		if tag != nil {
			rep.header.Set("Etag", string(tag(precond.ETag(rep.header.Get("Etag")))))
		}
		return rep
	})
}

// TestMisbehaving runs the audit against origins that each break one
// rule, and checks that the finding for that rule is reported with its
// verdict; TestCleanReport shows the correct origin does not get it.
func TestMisbehaving(t *testing.T) {
	type serveFunc = func(*http.Request) *reply
	tests := map[string]struct {
		h       http.Handler
		opts    Options
		want    string
		verdict Verdict
		also    []string // the other must and should findings the origin earns
	}{
		// RFC 9110 §15.4.5: a 304 cannot contain content; this one sends
		// the whole representation after its header section.
		"304_with_content": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				rep := serve(r)
				if rep.status == http.StatusNotModified {
					full := serve(without(r, conditionals...))
					rep.body = full.body
					rep.header.Set("Content-Length", strconv.Itoa(len(full.body)))
					rep.raw = true
				}
				return rep
			}),
			want: "304-has-content", verdict: Must,
		},
		// RFC 9110 §15.4.5, RFC 9112 §6.1: chunked framing on a 304 means content.
		"304_chunked": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				rep := serve(r)
				if rep.status == http.StatusNotModified {
					rep.header.Set("Transfer-Encoding", "chunked")
					rep.body = []byte("5\r\nhello\r\n0\r\n\r\n")
					rep.raw = true
				}
				return rep
			}),
			want: "304-has-content", verdict: Must,
		},
		// RFC 9110 §15.4.5: the 304 must carry the ETag the 200 would.
		"304_without_etag": {
			h:    notModifiedWithout("Etag"),
			want: "304-missing-etag", verdict: Must,
		},
		// RFC 9110 §15.4.5: ... and the Cache-Control.
		"304_without_cache_control": {
			h:    notModifiedWithout("Cache-Control"),
			want: "304-missing-cache-control", verdict: Must,
		},
		// RFC 9110 §15.4.5: ... and the Vary.
		"304_without_vary": {
			h:    notModifiedWithout("Vary"),
			want: "304-missing-vary", verdict: Must,
		},
		// RFC 9110 §15.4.5: ... with the same ETag.
		"304_other_etag": {
			h:    on304(func(rep *reply) { rep.header.Set("Etag", `"other"`) }),
			want: "304-etag-differs", verdict: Must,
		},
		// RFC 9110 §8.6: a 304's Content-Length, if any, is the 200's.
		"304_content_length": {
			h: on304(func(rep *reply) {
				rep.header.Set("Content-Length", "0007")
				rep.raw = true
			}),
			want: "304-content-length", verdict: Must,
		},
		// RFC 9110 §15.4.5: the 304's Cache-Control replaces the stored one.
		"304_other_cache_control": {
			h:    on304(func(rep *reply) { rep.header.Set("Cache-Control", "max-age=5") }),
			want: "304-field-differs", verdict: Should,
		},
		// RFC 9110 §15.4.5: no metadata of content the 304 does not have.
		"304_content_language": {
			h:    on304(func(rep *reply) { rep.header.Set("Content-Language", "en") }),
			want: "304-representation-metadata", verdict: Should,
		},
		// RFC 9110 §8.8.3: an entity tag is a quoted string.
		"etag_unquoted": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				rep := serve(r)
				if tag := rep.header.Get("Etag"); tag != "" {
					rep.header.Set("Etag", strings.Trim(tag, `"`))
				}
				return rep
			}),
			want: "etag-syntax", verdict: Must,
		},
		// RFC 9110 §8.8.3.1: a tag that changes on every request, with the
		// same content, never validates.
		"etag_changes_every_request": {
			h: func() http.Handler {
				var n atomic.Int64
				return misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
					rep := serve(r)
					rep.header.Set("Etag", fmt.Sprintf(`"v%d"`, n.Add(1)))
					return rep
				})
			}(),
			want: "etag-unstable", verdict: Should,
		},
		// RFC 9110 §8.8.1: a strong tag changes when the content does.
		"strong_etag_on_changing_content": {
			h: func() http.Handler {
				var n atomic.Int64
				return precond.Middleware(page(pageOptions{etag: `"fixed"`,
					content: func() string { return fmt.Sprintf("visit %d\n", n.Add(1)) }}))
			}(),
			want: "strong-etag-reused", verdict: Must,
		},
		// RFC 9110 §8.8.1, §8.8.3.3: gzip and identity bytes share a strong tag.
		"same_strong_etag_for_gzip_and_identity": {
			h:    gzipped(origin(), nil, true),
			want: "etag-same-across-codings", verdict: Must,
		},
		// RFC 9110 §12.5.5: the coding depends on Accept-Encoding, Vary must say so.
		"gzip_without_vary": {
			h:    gzipped(precond.Middleware(page(pageOptions{vary: "-"})), func(t precond.ETag) precond.ETag { return t[:len(t)-1] + `-gz"` }, false),
			want: "vary-missing-accept-encoding", verdict: Should,
		},
		// RFC 9110 §13.1.2: a list holding the tag matches.
		"inm_list_not_matched": {
			h: requestChange(func(r *http.Request) *http.Request {
				if strings.Contains(r.Header.Get("If-None-Match"), ",") {
					return without(r, "If-None-Match")
				}
				return r
			}),
			want: "inm-list-not-matched", verdict: Must,
		},
		// RFC 9110 §13.1.2: If-None-Match compares weakly.
		"inm_strong_comparison": {
			h: requestChange(func(r *http.Request) *http.Request {
				if strings.HasPrefix(r.Header.Get("If-None-Match"), "W/") {
					return with(r, "If-None-Match", `"nothing"`)
				}
				return r
			}),
			want: "inm-weak-not-matched", verdict: Must,
		},
		// RFC 9110 §13.1.2: the exact tag matches.
		"inm_ignored": {
			h:    requestChange(func(r *http.Request) *http.Request { return without(r, "If-None-Match") }),
			want: "inm-exact-not-matched", verdict: Must,
			// Without If-None-Match, the If-Modified-Since next to it decides.
			also: []string{"ims-honoured-with-inm", "inm-list-not-matched", "inm-star-not-honoured", "inm-weak-not-matched"},
		},
		// RFC 9110 §13.1.2: `*` matches any current representation.
		"inm_star_not_honoured": {
			h: requestChange(func(r *http.Request) *http.Request {
				if r.Header.Get("If-None-Match") == "*" {
					return without(r, "If-None-Match")
				}
				return r
			}),
			want: "inm-star-not-honoured", verdict: Must,
		},
		// RFC 9110 §13.1.2: a list without the tag does not match.
		"inm_anything_matches": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				if r.Header.Get("If-None-Match") != "" {
					return &reply{status: http.StatusNotModified, header: serve(without(r, conditionals...)).header}
				}
				return serve(r)
			}),
			want: "inm-other-not-modified", verdict: Must,
		},
		// RFC 9110 §13.1.3, §13.2.2: If-Modified-Since is ignored when
		// If-None-Match is present.
		"ims_honoured_with_inm": {
			h: requestChange(func(r *http.Request) *http.Request {
				if r.Header.Get("If-None-Match") != "" && r.Header.Get("If-Modified-Since") != "" {
					return without(r, "If-None-Match")
				}
				return r
			}),
			want: "ims-honoured-with-inm", verdict: Must,
		},
		// RFC 9110 §13.1.3: an origin should evaluate If-Modified-Since.
		"ims_ignored": {
			h:    requestChange(func(r *http.Request) *http.Request { return without(r, "If-Modified-Since") }),
			want: "ims-exact-not-honoured", verdict: Should,
		},
		// RFC 9110 §13.1.3: an invalid date is ignored.
		"ims_any_date_304": {
			h:    imsAlways304(),
			want: "ims-invalid-not-ignored", verdict: Must,
			also: []string{"ims-earlier-not-modified"},
		},
		// RFC 9110 §13.1.3: modified since an earlier date means 200.
		"ims_earlier_304": {
			h:    imsAlways304(),
			want: "ims-earlier-not-modified", verdict: Must,
			also: []string{"ims-invalid-not-ignored"},
		},
		// RFC 9110 §13.1.1: a failed If-Match is not performed: 412, not 200.
		"if_match_ignored": {
			h:    requestChange(func(r *http.Request) *http.Request { return without(r, "If-Match") }),
			want: "if-match-failed-not-412", verdict: Must,
		},
		// RFC 9110 §13.1.1: ... and not 304.
		"if_match_failed_304": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				rep := serve(r)
				if rep.status == http.StatusPreconditionFailed && r.Header.Get("If-Match") != "" {
					rep = &reply{status: http.StatusNotModified, header: serve(without(r, conditionals...)).header}
					precond.NotModifiedHeader(rep.header)
				}
				return rep
			}),
			want: "if-match-failed-not-412", verdict: Must,
		},
		// RFC 9110 §13.1.1: a matching If-Match proceeds.
		"if_match_current_refused": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				if r.Header.Get("If-Match") != "" {
					return &reply{status: http.StatusPreconditionFailed, header: http.Header{}}
				}
				return serve(r)
			}),
			want: "if-match-current-failed", verdict: Must,
		},
		// RFC 9110 §13.1.1: If-Match compares strongly; a weak tag never matches.
		"if_match_weak_compare": {
			h: misbehave(precond.Middleware(page(pageOptions{etag: `W/"w1"`})), func(r *http.Request, serve serveFunc) *reply {
				if r.Header.Get("If-Match") == `W/"w1"` {
					return serve(without(r, "If-Match"))
				}
				return serve(r)
			}),
			want: "if-match-weak-matched", verdict: Must,
		},
		// RFC 9110 §13.1.1: a cache may ignore If-Match; the origin is not blamed.
		"if_match_ignored_by_cache": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				rep := serve(without(r, "If-Match", "If-Unmodified-Since"))
				rep.header.Set("Age", "3")
				return rep
			}),
			want: "if-match-ignored-by-cache", verdict: Info,
		},
		// RFC 9110 §13.1.4: likewise If-Unmodified-Since.
		"ius_ignored_by_cache": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				rep := serve(without(r, "If-Unmodified-Since"))
				rep.header.Set("Age", "3")
				return rep
			}),
			want: "ius-ignored-by-cache", verdict: Info,
		},
		// RFC 9110 §13.1.4: If-Unmodified-Since before Last-Modified gives 412.
		"ius_ignored": {
			h:    requestChange(func(r *http.Request) *http.Request { return without(r, "If-Unmodified-Since") }),
			want: "ius-failed-not-412", verdict: Must,
		},
		// RFC 9110 §13.1.5: If-Range with a weak tag never matches.
		"if_range_weak_honoured": {
			h: requestChange(func(r *http.Request) *http.Request {
				if v := r.Header.Get("If-Range"); strings.HasPrefix(v, "W/") {
					return with(r, "If-Range", v[2:])
				}
				return r
			}),
			want: "if-range-weak-honoured", verdict: Must,
		},
		// RFC 9110 §13.1.5: If-Range with another tag gives the whole.
		"if_range_ignored": {
			h:    requestChange(func(r *http.Request) *http.Request { return without(r, "If-Range") }),
			want: "if-range-other-honoured", verdict: Must,
			also: []string{"if-range-weak-honoured"},
		},
		// RFC 9110 §13.1.5: If-Range with the current tag should give the part.
		"if_range_match_ignored": {
			h: requestChange(func(r *http.Request) *http.Request {
				if r.Header.Get("If-Range") != "" {
					return without(r, "Range", "If-Range")
				}
				return r
			}),
			want: "if-range-match-ignored", verdict: Should,
		},
		// RFC 9110 §15.3.7.1: the 206 holds the range asked for.
		"range_wrong_part": {
			h: requestChange(func(r *http.Request) *http.Request {
				if r.Header.Get("Range") != "" {
					return with(r, "Range", "bytes=1-1")
				}
				return r
			}),
			want: "range-wrong-part", verdict: Must,
		},
		// RFC 9110 §8.8.2.1: no Last-Modified later than Date.
		"last_modified_in_future": {
			h:    precond.Middleware(page(pageOptions{lastModified: testDate.Add(time.Hour).Format(http.TimeFormat)})),
			want: "last-modified-future", verdict: Must,
		},
		// RFC 9110 §5.6.7: senders generate IMF-fixdate only.
		"last_modified_rfc850": {
			h:    precond.Middleware(page(pageOptions{lastModified: "Friday, 20-Nov-26 10:00:00 GMT"})),
			want: "last-modified-syntax", verdict: Must,
		},
		// RFC 9110 §9.3.2: HEAD sends the fields GET sends.
		"head_fields_differ": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				rep := serve(r)
				if r.Method == http.MethodHead {
					rep.header.Set("Etag", `"head"`)
				}
				return rep
			}),
			want: "head-fields-differ", verdict: Should,
		},
		// RFC 9110 §15.4.5: a 304 answers only a conditional request.
		"unconditional_304": {
			h: misbehave(origin(), func(r *http.Request, serve serveFunc) *reply {
				rep := serve(r)
				rep.status, rep.body = http.StatusNotModified, nil
				return rep
			}),
			want: "unconditional-304", verdict: Must,
		},
		// RFC 9110 §8.8.3.1, §8.8.2.1: validators let caches revalidate.
		"no_validators": {
			h:    page(pageOptions{etag: "-", lastModified: "-"}),
			want: "validators-missing", verdict: Should,
			// A bare handler answers no precondition at all.
			also: []string{"if-match-failed-not-412", "inm-star-not-honoured"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			rep := audit(t, tt.h, tt.opts)
			f := rep.Find(tt.want)
			if f == nil {
				t.Fatalf("no %s finding; must/should findings:%s", tt.want, summary(rep))
			}
			if f.Verdict != tt.verdict {
				t.Errorf("%s: verdict %s, want %s", tt.want, f.Verdict, tt.verdict)
			}
			if f.Section == "" || f.Message == "" || len(f.Probes) == 0 {
				t.Errorf("%s: incomplete finding %+v", tt.want, f)
			}
			for _, p := range f.Probes {
				ex := rep.Probe(p)
				if ex == nil {
					t.Errorf("%s names probe %s, which the report lacks", tt.want, p)
				} else if ex.Request.Method == "" {
					t.Errorf("probe %s has no request head", p)
				}
			}
			if tt.verdict == Must && !rep.Failed() {
				t.Error("a MUST violation does not fail the report")
			}
			want := slices.Clone(tt.also)
			if tt.verdict == Must || tt.verdict == Should {
				want = append(want, tt.want)
			}
			slices.Sort(want)
			if got := ids(rep, Must, Should); !slices.Equal(got, want) {
				t.Errorf("must/should findings %v, want %v:%s", got, want, summary(rep))
			}
		})
	}
}

// notModifiedWithout is the correct origin, except that its 304s lack
// field.
func notModifiedWithout(field string) http.Handler {
	return on304(func(rep *reply) { rep.header.Del(field) })
}

// on304 is the correct origin with change applied to its 304s.
func on304(change func(*reply)) http.Handler {
	return misbehave(origin(), func(r *http.Request, serve func(*http.Request) *reply) *reply {
		rep := serve(r)
		if rep.status == http.StatusNotModified {
			change(rep)
		}
		return rep
	})
}

// requestChange is the correct origin seeing requests as change makes
// them.
func requestChange(change func(*http.Request) *http.Request) http.Handler {
	return misbehave(origin(), func(r *http.Request, serve func(*http.Request) *reply) *reply {
		return serve(change(r))
	})
}

// imsAlways304 answers 304 to any If-Modified-Since without If-None-Match.
func imsAlways304() http.Handler {
	return misbehave(origin(), func(r *http.Request, serve func(*http.Request) *reply) *reply {
		if r.Header.Get("If-Modified-Since") != "" && r.Header.Get("If-None-Match") == "" {
			rep := serve(without(r, conditionals...))
			precond.NotModifiedHeader(rep.header)
			return &reply{status: http.StatusNotModified, header: rep.header}
		}
		return serve(r)
	})
}
