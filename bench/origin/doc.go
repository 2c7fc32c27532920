// Command origin is the origin server of the load benchmark (bench/bench.sh).
// It serves the objects of package fixture:
//
//	/1k    1 KiB
//	/100k  100 KiB
//	/1m    1 MiB
//
// each with a strong ETag, a fixed Last-Modified, Content-Type and
// "Cache-Control: public, max-age=3600". Conditional and range requests are
// answered by net/http's ServeContent (RFC 9110 §13, §14).
//
// GET /_stats returns the request counters as JSON, such as
//
//	{"total":7,"other":0,"paths":{"/1k":{"200":3,"304":1},...}}
//
// so that a benchmark can tell whether a cache in front of the origin served
// a run itself (the counters do not move) or forwarded requests.
//
// Usage:
//
//	origin [-addr 127.0.0.1:19100]
package main
