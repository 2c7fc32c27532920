// Package precond implements HTTP validators and conditional requests for
// origin servers and caches (RFC 9110 §8.8 and §13).
//
// It has four parts, one per file:
//
//   - entity tags: [ETag], parsing of single tags and of the lists that
//     If-Match and If-None-Match carry, strong and weak comparison
//     (§8.8.3) and [ContentETag] for strong tags made from content;
//   - evaluation: [Evaluate] walks the preconditions in the order of
//     §13.2.2 and returns an [Outcome]: proceed, 304, 412, or proceed
//     without honouring Range;
//   - the 304: [NotModifiedHeader] keeps exactly the fields that §15.4.5
//     lets a 304 carry, and [WriteNotModified] sends it;
//   - the origin side: [Middleware] makes any [net/http.Handler] answer
//     conditional requests, and [Check] lets a handler answer them before
//     it renders anything.
//
// A shared cache answers its clients' conditional requests with the very
// same [Evaluate] and [NotModifiedHeader]. Everything here is safe for
// concurrent use.
package precond
