// Package framing lets an [http.Transport] read the HTTP/1.1 responses that
// RFC 9112 §6.3 frames and net/http refuses: those whose Transfer-Encoding
// is anything but a single `chunked`; and read field names as RFC 9112 §5.1
// says, without whitespace before the colon.
//
// net/http's client accepts exactly one Transfer-Encoding, chunked, and
// fails the request otherwise ("unsupported transfer encoding"). RFC 9112
// §6.3 says how such a response is framed: when chunked is the final
// transfer coding, by the chunked coding (rule 4); when another coding is
// final, by the server closing the connection (rule 4: "the message body
// length is determined by reading the connection until it is closed by
// the server"); and a response to HEAD, a 1xx, 204 or 304 has no content
// whatever its fields say (rule 1). [Reframe] rewrites such a head into one
// net/http frames the same way: it removes Transfer-Encoding (and
// Content-Length, which Transfer-Encoding overrides, rule 3), or replaces
// it with a single `chunked`. Transfer-Encoding is hop-by-hop (RFC 9110
// §7.6.1), so the field is not passed on in any case.
//
// [Wrap] puts Reframe between an http.Transport and its connections, and
// takes care that only response heads reach it: the transport's own
// bookkeeping says where they are, not a second parse of the content. An
// HTTP/1.1 client connection of net/http carries one exchange at a time.
// When the transport takes a connection for a request, before it writes
// the request, it reports the connection to the request's
// [httptrace.ClientTrace] (GotConn); [Transport.RoundTrip] adds that hook
// and arms the connection, so the next bytes read begin the response.
// The connection holds back each head until its empty line (at most
// [MaxHead] bytes), passes it through Reframe, stays armed after an
// interim 1xx and passes everything after the final head through
// untouched: content, trailers, and a tunnel after 101 are never read by
// this package.
//
// What this adds to net/http, and what it leaves alone:
//
//   - A head without Transfer-Encoding, or with the one net/http reads, is
//     passed on byte for byte, but for whitespace before a colon (below).
//     Content-Length framing, chunked framing with trailers, responses
//     without content and connection reuse are net/http's, unchanged.
//   - Whitespace between a field name and its colon is removed from every
//     field line of a head, whatever its framing, as RFC 9112 §5.1
//     requires of a proxy ("A proxy MUST remove any such whitespace from a
//     response message before forwarding the message downstream"), and the
//     field is the one its name says. net/http alone reads
//     `Transfer-Encoding : chunked` as a field named "Transfer-Encoding "
//     that frames nothing, `Cache-Control : private` as one a cache does
//     not read, and refuses a name followed by HTAB.
//   - A response framed by the close of the connection is never followed
//     by another on that connection: net/http reads it to EOF and closes
//     the connection (it does so for any response with neither
//     Content-Length nor chunked).
//   - A Transfer-Encoding list that is malformed or applies chunked twice,
//     or a head with obs-fold, is left to net/http, which refuses it as
//     before unless it reads a single chunked there (RFC 9112 §5.2 lets a
//     proxy answer such a response with 502).
//   - A response in HTTP/1.0 with Transfer-Encoding and content is read
//     until the connection closes, Content-Length notwithstanding, and the
//     connection is not reused (RFC 9112 §6.1: its framing is faulty).
//     net/http alone would trust its Content-Length.
//   - Transfer codings other than chunked are not undone: the bytes are
//     passed on as the content, with the field removed. notmod never offers
//     one (its TE field, when it sends one, says only "trailers", RFC 9110
//     §10.1.4), and an origin that applies one anyway gets its bytes relayed
//     as they are, as nginx 1.22 relays them.
//   - Every request is sent once: RoundTrip calls the wrapped transport
//     once, and the transport retries only as it always does.
//
// The connections speak HTTP/1.1 only; a request over HTTP/2 is not
// affected, and an https origin gets a TLS connection made by Wrap itself
// (offering no ALPN protocol), so that the reframing happens above TLS.
package framing
