// Package cachecontrol parses the Cache-Control header field into typed
// cache directives (RFC 9111 §5.2), with stale-while-revalidate and
// stale-if-error (RFC 5861) and immutable (RFC 8246), and parses targeted
// fields such as CDN-Cache-Control (RFC 9213) into the same form.
//
// There are three parsers, one per kind of field value:
//
//   - [ParseResponse] reads a response's Cache-Control (§5.2.2) into a
//     [Response];
//   - [ParseRequest] reads a request's Cache-Control (§5.2.1) into a
//     [Request];
//   - [ParseTargeted] reads a Structured Field Dictionary such as
//     CDN-Cache-Control into a [Response], and reports whether the field is
//     valid and non-empty, which decides whether a cache uses it or falls
//     back to Cache-Control (RFC 9213 §2.2).
//
// Each takes the field lines as they appear in an [net/http.Header] and
// treats them as one comma-separated list. None of them fails: an element
// that cannot be understood is ignored or read in the most cautious way,
// and the departure is recorded as a [Defect]. In particular an invalid
// max-age or s-maxage is reported present with a zero duration, so that the
// response is stale (RFC 9111 §4.2.1); the first of duplicate directives
// wins; a no-cache or private whose field list is malformed counts as
// unqualified. [ParseResponse] documents every such rule.
//
// Durations come from delta-seconds (§1.2.2) and never exceed [MaxDelta],
// 2^31 seconds, which stands for "forever".
//
// Performance: [ParseResponse] and [ParseRequest] sit on a cache's hot path
// and do not allocate. [Response] and [Request] are small values holding
// sub-slices of the input; the rarely needed parts (the field names of
// qualified no-cache and private, extension directives) are found again in
// the input when asked for. [ParseTargeted] allocates, as the Structured
// Field parser does.
//
// Everything here is safe for concurrent use, provided the caller does not
// modify the field lines a [Response] or [Request] was parsed from.
package cachecontrol
