// Package audit checks whether a URL does HTTP validation and caching
// right: it sends a matrix of plain and conditional requests through an
// injected [net/http.Client] and returns a typed [Report] of findings,
// each with a stable ID, a [Verdict], the RFC section that sets the rule
// and the probes (request and response heads) that showed it. "notmod
// check" is its command-line face.
//
// Make an [Auditor] with [New] and call [Auditor.Check] for one URL or
// [Auditor.CheckAll] for several, probed concurrently with a bound.
// [WriteText] renders reports for people, [WriteJSON] for programs, and
// [WriteSummary] as a table. An Auditor is safe for concurrent use; the
// probes of one URL are sent one after the other.
//
// # Probes
//
// Every probe carries the fields of [Options.Header], Accept-Encoding:
// identity (unless Options.Header sets it) and User-Agent: notmod-check.
// In order, by name:
//
//   - get, head, get-again: a plain GET, a HEAD and a second GET. They
//     give the validators (RFC 9110 §8.8), HEAD's fields against GET's
//     (§9.3.2), and whether the ETag stays while the content does
//     (§8.8.1). Unless get answers 200, only caching is judged
//     (§13.2.1: preconditions apply to a 2xx only).
//   - inm-exact, inm-weak, inm-list, inm-other, inm-star: If-None-Match
//     with the current tag, its other form (W/ added or removed), a list
//     holding it among two tags no representation has, a list of those
//     two only, and * (§13.1.2). The first three need a valid ETag.
//   - ims-exact, ims-earlier, ims-future, ims-invalid, inm-ims:
//     If-Modified-Since with the Last-Modified value, a day earlier,
//     Tue, 21 Nov 2050 08:00:00 GMT, "not a date", and the Last-Modified
//     value next to a non-matching If-None-Match, which must make the
//     server ignore it (§13.1.3, §13.2.2). All need a valid
//     Last-Modified.
//   - if-match-current, if-match-other, ius-old, ius-current: If-Match
//     with the current tag and with another, If-Unmodified-Since a day
//     before Last-Modified and at it (§13.1.1, §13.1.4), sent with
//     [Options.IfMatchMethod]: GET unless the user opts in to an unsafe
//     method with [Options.AllowUnsafe].
//   - range, if-range-match, if-range-other, if-range-weak: Range:
//     bytes=0-0, then, if it got 206, with If-Range holding the current
//     strong tag, another tag, and the current tag marked weak
//     (§13.1.5).
//   - coding-gzip: Accept-Encoding: gzip, against get's identity
//     (§8.8.3.3, §12.5.5).
//   - raw-304: the request of the first probe that got a 304, sent again
//     over a connection of its own with Connection: close, to read what
//     follows the 304's header section. net/http's client discards it;
//     this probe counts it (§15.4.5).
//   - watch-1 ... watch-N: with [Options.Repeat], GETs
//     [Options.Interval] apart, through [Options.Sleep], to watch a cache
//     in front over time.
//
// Every 304 any probe got is checked against get's 200 (§15.4.5): no
// content, the Cache-Control, Content-Location, Date, ETag, Expires and
// Vary the 200 carries, the same ETag, no Content-Length other than the
// 200's (§8.6), no other representation metadata.
//
// # Verdicts
//
// [Must] marks a violated MUST or MUST NOT, [Should] a SHOULD not
// followed (or an allowed practice that defeats validation, such as an
// ETag that changes with unchanged content), [OK] a requirement tested
// and met, [Info] an observation. [Report.Failed] is true when a MUST is
// violated, and "notmod check" then exits with status 1.
//
// Where the RFCs leave room, the audit decides:
//
//   - An origin must evaluate If-Match and If-Unmodified-Since on a GET
//     too (§13.1.1, §13.1.4); a 200 or 304 to a failed one is a MUST
//     violation, unless the response shows a cache answered (Age, or a
//     Cache-Status hit), which may ignore them: then it is Info.
//   - A 200 to If-Modified-Since in the future is Info: §13.1.3 lets a
//     server compare dates exactly.
//   - A probe whose answer carries another ETag (or a later
//     Last-Modified) than the one it was made from proves nothing: the
//     representation changed in between; that is Info, and an ETag that
//     changes with unchanged content is the finding (etag-unstable).
//   - HEAD is compared with GET only on fields the two GETs agree on, so
//     fields that change on every response are not blamed on HEAD.
//   - Last-Modified is compared with the response's Date; without Date,
//     with [Options.Now], allowing a minute of clock difference.
//   - Obsolete date formats in Last-Modified and Expires, Expires: 0
//     included, violate the MUST of §5.6.7 for senders.
//   - A heuristic lifetime is reported as 10 % of the time since
//     Last-Modified, the fraction RFC 9111 §4.2.2 calls typical.
//
// # Finding IDs
//
// The IDs are stable: a release may add IDs, never change one's meaning.
// With the verdict each is reported with:
//
//	validators and HEAD (RFC 9110 §8.8, §9.3.2)
//	  etag-strong, etag-weak, etag-stable, last-modified-valid,
//	  head-matches-get                                       ok
//	  etag-syntax, last-modified-syntax, last-modified-future,
//	  strong-etag-reused, unconditional-304                  must
//	  etag-unstable, validators-missing, head-fields-differ,
//	  head-status-differs                                    should
//	  etag-missing, last-modified-missing, content-changes,
//	  status-not-200, redirect                               info
//	If-None-Match (§13.1.2)
//	  inm-exact-matched, inm-weak-matched, inm-list-matched,
//	  inm-other-full, inm-star-matched                       ok
//	  inm-exact-not-matched, inm-weak-not-matched,
//	  inm-list-not-matched, inm-other-not-modified,
//	  inm-star-not-honoured                                  must
//	  inm-representation-changed                             info
//	If-Modified-Since (§13.1.3, §13.2.2)
//	  ims-exact-matched, ims-earlier-full, ims-future-matched,
//	  ims-invalid-ignored, ims-ignored-with-inm              ok
//	  ims-earlier-not-modified, ims-invalid-not-ignored,
//	  ims-honoured-with-inm                                  must
//	  ims-exact-not-honoured                                 should
//	  ims-future-full, ims-representation-changed            info
//	304 responses (§15.4.5, §8.6)
//	  304-fields-kept, 304-no-content                        ok
//	  304-has-content, 304-content-length, 304-etag-differs,
//	  304-missing-cache-control, 304-missing-content-location,
//	  304-missing-date, 304-missing-etag, 304-missing-expires,
//	  304-missing-vary                                       must
//	  304-field-differs, 304-representation-metadata         should
//	  304-last-modified-with-etag, 304-content-unchecked     info
//	If-Match and If-Unmodified-Since (§13.1.1, §13.1.4)
//	  if-match-current-ok, if-match-failed-412,
//	  if-match-weak-refused, ius-failed-412, ius-current-ok  ok
//	  if-match-current-failed, if-match-failed-not-412,
//	  if-match-weak-matched, ius-failed-not-412,
//	  ius-current-failed                                     must
//	  if-match-ignored-by-cache, ius-ignored-by-cache,
//	  if-match-representation-changed,
//	  ius-representation-changed, precondition-not-evaluated,
//	  precondition-success-not-sent                          info
//	Range and If-Range (§13.1.5, §14, §15.3.7)
//	  range-supported, if-range-match-partial,
//	  if-range-other-full, if-range-weak-full                ok
//	  range-wrong-part, if-range-other-honoured,
//	  if-range-weak-honoured                                 must
//	  if-range-match-ignored                                 should
//	  range-unsupported, if-range-representation-changed     info
//	content negotiation (§8.8.3.3, §12.5.5)
//	  coding-etag-distinct, vary-accept-encoding             ok
//	  etag-same-across-codings                               must
//	  vary-missing-accept-encoding                           should
//	  coding-not-negotiated, etag-weak-across-codings        info
//	caching (RFC 9111; RFC 9211; RFC 5861)
//	  cache-control-syntax, expires-invalid, age-invalid,
//	  cache-status-syntax, cache-hit-without-age,
//	  cache-served-stale, cache-reused-no-cache              must
//	  cache-control-duplicate, cache-status-hit-and-fwd      should
//	  freshness-shared, freshness-private,
//	  cache-control-conflict, cache-control-useless,
//	  expires-ignored, pragma-in-response, age, cache-status,
//	  cache-served-stale-allowed                             info
//	watch (RFC 9111 §4.2.3)
//	  watch-age-grows                                        ok
//	  watch-age-not-growing                                  should
//	  watch                                                  info
//	any probe
//	  probe-failed                                           should
//
// # JSON schema
//
// [WriteJSON] writes one document, schema "notmod-audit/1" ([Schema]).
// Within a version fields may be added, never removed or changed in
// meaning. Header fields are objects from canonical field name (as Go
// spells it: "Etag", "Cache-Status") to the list of field lines.
//
//	{
//	  "schema": "notmod-audit/1",
//	  "reports": [                         one per URL, in the order given
//	    {
//	      "url": string,                   as given
//	      "checked_at": string,            RFC 3339, when the audit began
//	      "error": string,                 only when the URL could not be
//	                                       audited; then no findings
//	      "status": int,                   of the first GET; 0 on error
//	      "etag": string,                  of the first GET, as received;
//	      "last_modified": string,         both omitted when absent
//	      "freshness": {                   omitted on error
//	        "shared": lifetime,
//	        "private": lifetime
//	      },
//	      "counts": {"must": int, "should": int, "ok": int, "info": int},
//	      "findings": [                    by verdict (must first), then id
//	        {
//	          "id": string,                see Finding IDs
//	          "verdict": "must" | "should" | "ok" | "info",
//	          "section": string,           such as "RFC 9110 §13.1.2"
//	          "message": string,           for people; wording may change
//	          "probes": [string]           names of entries of "probes"
//	        }
//	      ],
//	      "probes": [                      in the order sent
//	        {
//	          "name": string,              such as "inm-list"
//	          "request": {
//	            "method": string,
//	            "target": string,          path and query
//	            "header": {name: [string]} the fields the audit set
//	          },
//	          "response": {                null when the request failed
//	            "proto": string,           such as "HTTP/1.1"
//	            "status": int,
//	            "header": {name: [string]},
//	            "content_bytes": int       content read; for a 304 or HEAD,
//	                                       only content that should not be
//	          },
//	          "error": string              omitted when none
//	        }
//	      ],
//	      "watch": [                       omitted without --repeat
//	        {
//	          "probe": string,             "watch-1", ...
//	          "offset_seconds": int,       since the first GET
//	          "status": int,               0 when the request failed
//	          "age": int | null,           the Age field, null when absent
//	          "cache_status": string,      the Cache-Status field, omitted
//	                                       when absent
//	          "etag": string,              omitted when absent
//	          "event": "hit" | "revalidated" | "refetched" | "changed" |
//	                   "stale" | "failed"
//	        }
//	      ]
//	    }
//	  ]
//	}
//
// where a lifetime is
//
//	{
//	  "stores": bool,                      whether that cache may store it
//	  "lifetime_seconds": int,             freshness lifetime
//	  "source": "s-maxage" | "max-age" | "expires" | "heuristic" | "none"
//	            | "no-store" | "private" | "authorization" | "status",
//	  "validate_every_use": bool           no-cache
//	}
//
// The last four sources say why a cache would not store the response;
// "none" means stored but stale at once.
package audit
