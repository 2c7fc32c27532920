// RFC 9111 §4.2.3, §4.3 and RFC 9211: watching a cache in front of the
// URL over repeated GETs.

package audit

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// watch sends Options.Repeat GETs, each after Options.Interval, and
// judges what the cache in front did over time.
func (r *run) watch(get *Exchange) {
	var rounds []*Exchange
	for i := 1; i <= r.a.opts.Repeat; i++ {
		if err := r.a.opts.Sleep(r.ctx, r.a.opts.Interval); err != nil {
			break
		}
		rounds = append(rounds, r.send(fmt.Sprintf("watch-%d", i), http.MethodGet, nil, nil))
	}
	if len(rounds) > 0 {
		r.rep.Watch = checkWatch(&r.f, get, rounds)
	}
}

// checkWatch judges the watch rounds, which followed get: each round as a
// response a cache may have reused (RFC 9111 §4, §4.2.4), and Age growing
// with time between reuses of one stored response (§4.2.3). It returns
// the rounds for the report.
func checkWatch(f *findings, get *Exchange, rounds []*Exchange) []Round {
	out := make([]Round, 0, len(rounds))
	prev := get
	hits, revalidations, refetches, stale, changes, checkedPairs := 0, 0, 0, 0, 0, 0
	var notGrowing []string
	for _, ex := range rounds {
		rd := Round{Probe: ex.Name, OffsetSeconds: int64(ex.at.Sub(get.at) / time.Second), Status: ex.status()}
		h := ex.header()
		age, ast := ParseAge(h["Age"])
		if ast == AgeValid || ast == AgeList {
			rd.Age = &age
		}
		rd.CacheStatus = strings.Join(h["Cache-Status"], ", ")
		rd.ETag = h.Get("Etag")
		before := len(f.list)
		if ex.Response != nil {
			checkCacheInFront(f, ex)
		}
		staleNow := false
		for _, x := range f.list[before:] {
			staleNow = staleNow || x.ID == "cache-served-stale" || x.ID == "cache-served-stale-allowed"
		}
		pAge, pst := ParseAge(prev.header()["Age"])
		entries, _ := ParseCacheStatus(h["Cache-Status"])
		switch {
		case ex.Response == nil:
			rd.Event = "failed"
		case rd.ETag != prev.header().Get("Etag"):
			rd.Event = "changed"
			changes++
		case staleNow:
			rd.Event = "stale"
			stale++
		default:
			rd.Event = eventOf(entries, rd.Age)
		}
		if rd.Event == "hit" && rd.Age != nil && (pst == AgeValid || pst == AgeList) && prev.status() == ex.status() {
			elapsed := int64(ex.at.Sub(prev.at) / time.Second)
			switch {
			case age < pAge:
				rd.Event = "revalidated" // a fresher copy: the cache went to the origin
			case elapsed >= 2 && age-pAge < elapsed-1:
				notGrowing = append(notGrowing, fmt.Sprintf("%s: Age %d after %d, %d s later", ex.Name, age, pAge, elapsed))
				checkedPairs++
			default:
				checkedPairs++
			}
		}
		switch rd.Event {
		case "hit":
			hits++
		case "revalidated":
			revalidations++
		case "refetched":
			refetches++
		}
		out = append(out, rd)
		prev = ex
	}
	names := make([]string, len(rounds))
	for i, ex := range rounds {
		names[i] = ex.Name
	}
	switch {
	case len(notGrowing) > 0:
		f.add("watch-age-not-growing", Should, "RFC 9111 §4, §4.2.3",
			"Age did not grow with time between hits ("+strings.Join(notGrowing, "; ")+"); a cache sends the stored response's current age, unless the requests reached different caches.", names...)
	case checkedPairs > 0:
		f.add("watch-age-grows", OK, "RFC 9111 §4.2.3",
			"Age grew with time between hits on the same stored response.", names...)
	}
	f.add("watch", Info, "RFC 9111 §4.2.3, §4.3; RFC 9211",
		fmt.Sprintf("%d rounds: hit %d, revalidated %d, fetched again %d, stale %d, ETag changed %d.", len(rounds), hits, revalidations, refetches, stale, changes), names...)
	return out
}

// eventOf classifies a round that kept the ETag by what the caches in
// front said (RFC 9211 §2.1, §2.2): the member nearest the client that
// went forward decides, and a hit only when every cache hit. Without
// Cache-Status, an Age means a hit and its absence a fetch.
func eventOf(entries []CacheStatus, age *int64) string {
	if len(entries) == 0 {
		if age != nil {
			return "hit"
		}
		return "refetched"
	}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Hit {
			return "hit"
		}
		if e.Fwd == "stale" && e.FwdStatus == http.StatusNotModified {
			return "revalidated"
		}
		if e.Fwd != "" {
			return "refetched"
		}
	}
	return "refetched"
}
