// Package byterange answers byte-range requests (RFC 9110 §14) for a
// response whose content is complete and in memory, as a middleware that
// buffers a 200 (OK) response holds it.
//
// The work is split in two pure steps. [Parse] reads the Range field value
// against the representation length and says what to send:
//
//   - a list of [Range]s: send 206 (Partial Content) (RFC 9110 §15.3.7);
//   - an error matching [ErrUnsatisfiable]: send 416 (Range Not Satisfiable)
//     with the header set by [Unsatisfiable] (RFC 9110 §15.5.17);
//   - any other error ([ErrInvalid], [ErrTooMany], [ErrNoContent]): ignore
//     the Range field and send the full 200 (RFC 9110 §14.2).
//
// [NewPlan] then lays out the 206: [Plan.Header] sets Content-Range or the
// multipart/byteranges Content-Type (RFC 9110 §14.6) and the exact
// Content-Length before the status is written, and [Plan.WriteTo] writes
// the content afterwards (not at all for HEAD).
//
// The caller decides whether Range applies at all: only to GET (RFC 9110
// §14.2), only when the response would otherwise be a 200 after the
// preconditions (RFC 9110 §13.2.2), and only when If-Range, if present,
// evaluates to true (RFC 9110 §13.1.5). Range is a singleton field: a
// request with more than one Range field line is invalid and its ranges are
// ignored.
//
// Decisions where RFC 9110 leaves room:
//
//   - Numbers of any length are accepted (§14.1.2 asks recipients to
//     anticipate large numerals): a first-pos beyond int64 is simply not
//     satisfiable, a last-pos or suffix-length beyond int64 reaches the end
//     of the representation.
//   - A field with more than [MaxRanges] range-specs is ignored
//     ([ErrTooMany]), as §14.2 allows for sets that indicate a broken
//     client or an attack.
//   - When more than one range is satisfiable, ranges that overlap or touch
//     are coalesced into one (§15.3.7.2), so the parts never overlap and
//     their total never exceeds the representation length; the remaining
//     parts keep the order in which their earliest range-spec appeared. When
//     a single range remains, the 206 has a single part.
//   - For a representation of zero length, int-ranges and "-0" are not
//     satisfiable (416), while a non-zero suffix-range, the only
//     satisfiable form (§14.1.2), selects no bytes and so the Range field is
//     ignored ([ErrNoContent]), as §14.2 allows.
//   - Without a caller-chosen boundary, the multipart boundary is derived
//     from the selected bytes, so the same request yields the same bytes,
//     and [NewPlan] checks that no part contains it.
//
// Every function is pure and safe for concurrent use; nothing is kept
// between calls.
package byterange
