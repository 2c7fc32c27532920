// RFC 9110 §13.1 and §13.2: preconditions and the order they are evaluated in.

package precond

import (
	"net/http"
	"time"
)

// Validators describes the selected representation as it is now: what an
// origin server knows of its current state, or what a cache holds in its
// stored response (RFC 9110 §8.8).
type Validators struct {
	// ETag is the current entity tag; "" when the representation has none.
	ETag ETag

	// LastModified is the current modification date; the zero time when
	// the representation has none. It is compared at second precision.
	LastModified time.Time

	// Date is when the response is (or was) generated. A Last-Modified at
	// least one second before Date is a strong validator, which If-Range
	// requires of a date (RFC 9110 §8.8.2.2). When Date is zero, dates in
	// If-Range never match.
	Date time.Time

	// Missing reports that the target has no current representation, as
	// for a PUT that would create it. Then `If-Match: *` fails and
	// `If-None-Match: *` succeeds (RFC 9110 §13.1.1, §13.1.2).
	Missing bool
}

// Outcome is the result of evaluating a request's preconditions.
type Outcome uint8

const (
	// Proceed means no precondition stops the request: perform the method
	// and, for a GET with Range, honour Range.
	Proceed Outcome = iota
	// IgnoreRange means perform the method but ignore Range and send the
	// whole representation: If-Range did not match (RFC 9110 §13.1.5).
	IgnoreRange
	// NotModified means answer 304: If-None-Match or If-Modified-Since
	// failed on a GET or HEAD (RFC 9110 §13.1.2, §13.1.3).
	NotModified
	// PreconditionFailed means answer 412 without performing the method:
	// If-Match or If-Unmodified-Since failed, or If-None-Match failed on a
	// method other than GET and HEAD (RFC 9110 §13.1.1, §13.1.2, §13.1.4).
	PreconditionFailed
)

var outcomeNames = [...]string{"proceed", "ignore-range", "not-modified", "precondition-failed"}

// String returns the outcome's name, such as "not-modified".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Conditions holds the precondition fields of one request, as field lines.
// The slices are shared with the request's header and must not be
// modified. The zero value is an unconditional GET-less request.
type Conditions struct {
	Method            string
	IfMatch           ETagList // If-Match (RFC 9110 §13.1.1)
	IfNoneMatch       ETagList // If-None-Match (§13.1.2)
	IfModifiedSince   []string // If-Modified-Since (§13.1.3)
	IfUnmodifiedSince []string // If-Unmodified-Since (§13.1.4)
	IfRange           []string // If-Range (§13.1.5)
	Range             bool     // whether the request carries Range (§14.2)
}

// ConditionsOf collects the precondition fields of a request with the
// given method and header. h must use canonical keys, as the header of a
// request read by net/http does. It does not allocate.
func ConditionsOf(method string, h http.Header) Conditions {
	return Conditions{
		Method:            method,
		IfMatch:           h["If-Match"],
		IfNoneMatch:       h["If-None-Match"],
		IfModifiedSince:   h["If-Modified-Since"],
		IfUnmodifiedSince: h["If-Unmodified-Since"],
		IfRange:           h["If-Range"],
		Range:             len(h["Range"]) > 0,
	}
}

// Conditional reports whether the request carries any precondition that
// can turn its answer into a 304 or a 412 (RFC 9110 §13.1). A cache must
// never answer a request for which this is false with a 304.
func (c Conditions) Conditional() bool {
	return len(c.IfMatch) > 0 || len(c.IfNoneMatch) > 0 ||
		len(c.IfModifiedSince) > 0 || len(c.IfUnmodifiedSince) > 0
}

// Evaluate is shorthand for ConditionsOf(method, h).Evaluate(v).
func Evaluate(method string, h http.Header, v Validators) Outcome {
	return ConditionsOf(method, h).Evaluate(v)
}

// Evaluate evaluates the preconditions against the selected
// representation's current validators in the order of RFC 9110 §13.2.2:
//
//  1. If-Match; when false, 412.
//  2. If-Unmodified-Since, only without If-Match; when false, 412.
//  3. If-None-Match; when false, 304 for GET and HEAD, 412 otherwise.
//  4. If-Modified-Since, only for GET and HEAD and only without
//     If-None-Match; when false, 304.
//  5. If-Range, only for GET with Range; when false, ignore Range.
//
// Preconditions are ignored for methods that neither select nor modify a
// representation (CONNECT, OPTIONS, TRACE; §13.2.1). The caller evaluates
// only when the response without preconditions would have been a 2xx or
// 412 (§13.2.1). Evaluate does not allocate.
func (c Conditions) Evaluate(v Validators) Outcome {
	switch c.Method {
	case http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return Proceed
	}
	safe := c.Method == http.MethodGet || c.Method == http.MethodHead

	// Step 1 and 2: If-Match, or else If-Unmodified-Since.
	if len(c.IfMatch) > 0 {
		if !ifMatch(c.IfMatch, v) {
			return PreconditionFailed
		}
	} else if len(c.IfUnmodifiedSince) > 0 {
		if ifUnmodifiedSince(c.IfUnmodifiedSince, v) == condFalse {
			return PreconditionFailed
		}
	}

	// Step 3 and 4: If-None-Match, or else If-Modified-Since.
	if len(c.IfNoneMatch) > 0 {
		if !ifNoneMatch(c.IfNoneMatch, v) {
			if safe {
				return NotModified
			}
			return PreconditionFailed
		}
	} else if safe && len(c.IfModifiedSince) > 0 {
		if ifModifiedSince(c.IfModifiedSince, v) == condFalse {
			return NotModified
		}
	}

	// Step 5: If-Range, which only a GET with Range can carry (§14.2).
	if c.Method == http.MethodGet && c.Range && len(c.IfRange) > 0 {
		if !ifRange(c.IfRange, v) {
			return IgnoreRange
		}
	}
	return Proceed
}

// cond is the three-state result of one date precondition: a field that
// must be ignored is neither true nor false.
type cond uint8

const (
	condNone cond = iota
	condTrue
	condFalse
)

// ifMatch evaluates If-Match (RFC 9110 §13.1.1): `*` is true when a current
// representation exists; a list is true when one of its tags matches the
// current entity tag by the strong comparison. A malformed list matches
// nothing.
func ifMatch(l ETagList, v Validators) bool {
	if v.Missing {
		return false
	}
	if l.Any() {
		return true
	}
	return l.Match(v.ETag, true)
}

// ifNoneMatch evaluates If-None-Match (RFC 9110 §13.1.2): `*` is false when
// a current representation exists; a list is false when one of its tags
// matches the current entity tag by the weak comparison. A malformed list
// matches nothing, so the condition is true.
func ifNoneMatch(l ETagList, v Validators) bool {
	if v.Missing {
		return true
	}
	if l.Any() {
		return false
	}
	return !l.Match(v.ETag, false)
}

// singleDate parses a field that must hold exactly one HTTP-date. A field
// with several lines, an invalid date or a list of dates is to be ignored
// (RFC 9110 §13.1.3, §13.1.4).
func singleDate(lines []string) (time.Time, bool) {
	if len(lines) != 1 {
		return time.Time{}, false
	}
	t, err := http.ParseTime(lines[0])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// modifiedSince compares the representation's modification date, at
// second precision, with the one date lines must hold: condTrue when it
// was modified after that date, condFalse when not, condNone when the
// field must be ignored: an invalid date or a list of dates, or no
// modification date to compare (RFC 9110 §13.1.3, §13.1.4). A date in the
// future is not special: the comparison decides.
func modifiedSince(lines []string, v Validators) cond {
	if v.LastModified.IsZero() || v.Missing {
		return condNone
	}
	t, ok := singleDate(lines)
	if !ok {
		return condNone
	}
	if v.LastModified.Truncate(time.Second).After(t) {
		return condTrue
	}
	return condFalse
}

// ifModifiedSince evaluates If-Modified-Since (RFC 9110 §13.1.3): false
// when the representation was last modified at or before the date.
func ifModifiedSince(lines []string, v Validators) cond { return modifiedSince(lines, v) }

// ifUnmodifiedSince evaluates If-Unmodified-Since (RFC 9110 §13.1.4): true
// when the representation was last modified at or before the date.
func ifUnmodifiedSince(lines []string, v Validators) cond {
	switch modifiedSince(lines, v) {
	case condTrue:
		return condFalse
	case condFalse:
		return condTrue
	}
	return condNone
}

// ifRange evaluates If-Range (RFC 9110 §13.1.5). An entity tag is true
// when it matches the current one by the strong comparison, so a weak tag
// is never true. A date is true when it equals Last-Modified exactly and
// Last-Modified is a strong validator: at least one second before the
// response's Date (§8.8.2.2). Anything else is false.
func ifRange(lines []string, v Validators) bool {
	if len(lines) != 1 || v.Missing {
		return false
	}
	s := lines[0]
	if t, ok := ParseETag(s); ok {
		return t.StrongMatch(v.ETag)
	}
	t, err := http.ParseTime(s)
	if err != nil || v.LastModified.IsZero() || v.Date.IsZero() {
		return false
	}
	lm := v.LastModified.Truncate(time.Second)
	if v.Date.Truncate(time.Second).Sub(lm) < time.Second {
		return false
	}
	return lm.Equal(t)
}
