package cachecontrol_test

import (
	"fmt"
	"net/http"

	"github.com/notmod/notmod/cachecontrol"
)

func ExampleParseResponse() {
	h := http.Header{}
	h.Add("Cache-Control", `public, max-age=3600, no-cache="Set-Cookie"`)
	h.Add("Cache-Control", `stale-while-revalidate=60, community="UCI"`)

	cc := cachecontrol.ParseResponse(h["Cache-Control"])
	maxAge, _ := cc.MaxAge()
	swr, _ := cc.StaleWhileRevalidate()
	fmt.Println("max-age:", maxAge, "public:", cc.Public(), "stale-while-revalidate:", swr)
	fmt.Println("no-cache:", cc.NoCache(), "qualified:", cc.NoCacheQualified())
	for field := range cc.NoCacheFields() {
		fmt.Println("strip on reuse:", field)
	}
	for name, value := range cc.Extensions() {
		fmt.Printf("extension %s=%q\n", name, value)
	}
	fmt.Println(cc)
	// Output:
	// max-age: 1h0m0s public: true stale-while-revalidate: 1m0s
	// no-cache: false qualified: true
	// strip on reuse: Set-Cookie
	// extension community="UCI"
	// public, no-cache="Set-Cookie", max-age=3600, stale-while-revalidate=60, community=UCI
}

func ExampleParseResponse_invalid() {
	// RFC 9111 §4.2.1: invalid freshness information means stale.
	cc := cachecontrol.ParseResponse([]string{"max-age=3600.5"})
	maxAge, present := cc.MaxAge()
	fmt.Println(maxAge, present, cc.Defects())
	// Output:
	// 0s true argument
}

func ExampleParseRequest() {
	cc := cachecontrol.ParseRequest([]string{"max-stale, only-if-cached"})
	maxStale, _ := cc.MaxStale()
	fmt.Println(cc.MaxStaleAny(), maxStale == cachecontrol.MaxDelta, cc.OnlyIfCached())
	// Output:
	// true true true
}

func ExampleParseTargeted() {
	h := http.Header{}
	h.Set("Cache-Control", "max-age=60")
	h.Set("CDN-Cache-Control", "max-age=600")

	// RFC 9213 §2.2: a valid targeted field replaces Cache-Control.
	cc, ok := cachecontrol.ParseTargeted(h["Cdn-Cache-Control"])
	if !ok {
		cc = cachecontrol.ParseResponse(h["Cache-Control"])
	}
	maxAge, _ := cc.MaxAge()
	fmt.Println(ok, maxAge)

	_, ok = cachecontrol.ParseTargeted([]string{"MAX-AGE=600"})
	fmt.Println(ok)
	// Output:
	// true 10m0s
	// false
}
