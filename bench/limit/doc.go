// Command limit is the ceiling of the load benchmark (bench/bench.sh): a
// bare net/http server that sends the same bytes and header fields as
// bench/origin from memory, with no cache logic at all. Its throughput is
// the practical upper bound for any net/http-based server on the same
// machine, notmod serve included, and the benchmark reports every target as
// a ratio to it.
//
// Body and field values are built once; a response only shares them. A
// GET with an If-None-Match that matches the object's entity tag by the
// weak comparison, or "*", is answered 304 with the fields a 200 would
// carry among those §15.4.5 keeps (ETag, Cache-Control; Date from net/http)
// (RFC 9110 §13.1.2).
//
// Usage:
//
//	limit [-addr 127.0.0.1:19101]
package main
