// Package httpcache is notmod's HTTP cache: the rules of RFC 9111 over a
// byte-level store (package store), with no server or client of its own.
//
// A front end asks [Cache.Lookup] what to do with a request and gets a
// [Lookup] with a [Decision]:
//
//   - Serve: a stored response may be used (RFC 9111 §4, §4.2, §5.2.1).
//     [Lookup.Reply] evaluates the client's conditions against it with the
//     origin middleware's evaluator (RFC 9110 §13.2.2, RFC 9111 §4.3.2) and
//     gives the status and content; [Lookup.Head] (for net/http) or
//     [Lookup.Wire] (serialised once per stored response) the fields, and
//     [Lookup.AgeAndStatus] the Age (§5.1) and Cache-Status (RFC 9211).
//   - ServeStale: the same, stale but allowed (stale-while-revalidate,
//     RFC 5861 §3); then [Lookup.Revalidate] refreshes it in the background.
//   - Forward: go to the origin with [Lookup.Outbound] applied (the stored
//     validators, §4.3.1), and hand the response to [Lookup.Receive], which
//     stores it, merges a 304 into the stored response (§3.2, §4.3.4) or
//     invalidates (§4.4), or an error to [Lookup.Fail], which may serve
//     stale (§4.2.4, RFC 5861 §4).
//   - Wait: another request for the URL is at the origin (collapsing):
//     [Lookup.Wait], then [Lookup.Retry].
//   - GatewayTimeout: only-if-cached and nothing fits (§5.2.1.7).
//
// Every Lookup is released with [Lookup.Release]. Package proxy is the
// net/http front end, package fastproxy the fasthttp one; both run this
// same code for every decision, and package transport uses it as a
// private cache. Time comes from [Options.Now], so the rules are tested
// with an injected clock.
package httpcache
