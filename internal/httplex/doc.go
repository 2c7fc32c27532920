// Package httplex lexes HTTP field values: comma-separated lists whose
// elements may contain quoted strings (RFC 9110 §5.6.1), tokens (§5.6.2),
// quoted strings (§5.6.4) and optional whitespace (§5.6.3).
//
// Every header list in notmod is split with [Elements] or [ElementsOf], never
// with strings.Split, so that a comma inside a quoted string ("a,b") never
// splits an element. The functions are pure, allocate nothing beyond what
// they return and are safe for concurrent use.
package httplex
