package cachecontrol

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// describeResponse renders every accessor of r in a fixed order, so that a
// table case states the whole outcome in one short string. It reads only
// the exported accessors, never String.
func describeResponse(r Response) string { return describe(r, false) }

// describeEffective is describeResponse without the qualified no-cache and
// private field lists that an unqualified one overrides (RFC 9111
// §4.2.1: the most restrictive directive is honoured).
func describeEffective(r Response) string { return describe(r, true) }

// describe implements describeResponse and describeEffective.
func describe(r Response, effective bool) string {
	var out []string
	delta := func(name string, d time.Duration, ok bool) {
		if ok {
			out = append(out, fmt.Sprintf("%s=%d", name, d/time.Second))
		}
	}
	qualified := func(name string, whole, q bool, fields iter.Seq[string]) {
		if whole {
			out = append(out, name)
		}
		if q && !(effective && whole) {
			out = append(out, name+"=["+strings.Join(slices.Collect(fields), " ")+"]")
		}
	}
	flag := func(name string, on bool) {
		if on {
			out = append(out, name)
		}
	}
	d, ok := r.MaxAge()
	delta("max-age", d, ok)
	d, ok = r.SMaxAge()
	delta("s-maxage", d, ok)
	d, ok = r.StaleWhileRevalidate()
	delta("swr", d, ok)
	d, ok = r.StaleIfError()
	delta("sie", d, ok)
	qualified("no-cache", r.NoCache(), r.NoCacheQualified(), r.NoCacheFields())
	qualified("private", r.Private(), r.PrivateQualified(), r.PrivateFields())
	flag("no-store", r.NoStore())
	flag("public", r.Public())
	flag("must-revalidate", r.MustRevalidate())
	flag("proxy-revalidate", r.ProxyRevalidate())
	flag("must-understand", r.MustUnderstand())
	flag("no-transform", r.NoTransform())
	flag("immutable", r.Immutable())
	for name, value := range r.Extensions() {
		out = append(out, "ext:"+name+"="+value)
	}
	return strings.Join(out, " ")
}

// describeRequest is describeResponse for a Request.
func describeRequest(r Request) string {
	var out []string
	delta := func(name string, d time.Duration, ok bool) {
		if ok {
			out = append(out, fmt.Sprintf("%s=%d", name, d/time.Second))
		}
	}
	flag := func(name string, on bool) {
		if on {
			out = append(out, name)
		}
	}
	d, ok := r.MaxAge()
	delta("max-age", d, ok)
	d, ok = r.MaxStale()
	delta("max-stale", d, ok)
	flag("max-stale-any", r.MaxStaleAny())
	d, ok = r.MinFresh()
	delta("min-fresh", d, ok)
	d, ok = r.StaleIfError()
	delta("sie", d, ok)
	flag("no-cache", r.NoCache())
	flag("no-store", r.NoStore())
	flag("no-transform", r.NoTransform())
	flag("only-if-cached", r.OnlyIfCached())
	for name, value := range r.Extensions() {
		out = append(out, "ext:"+name+"="+value)
	}
	return strings.Join(out, " ")
}
