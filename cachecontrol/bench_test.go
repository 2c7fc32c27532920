package cachecontrol

import (
	"testing"
)

// hotInputs are field values a cache meets on every request or response.
func hotInputs() map[string][]string {
	return map[string][]string{
		"typical":     {"public, max-age=3600"},
		"no-store":    {"no-store"},
		"immutable":   {"public, max-age=31536000, immutable"},
		"revalidate":  {"private, no-cache, max-age=0, must-revalidate"},
		"qualified":   {`no-cache="Set-Cookie", max-age=60`},
		"two lines":   {"max-age=60, s-maxage=300", "stale-while-revalidate=30, stale-if-error=600"},
		"quoted":      {`max-age="3600", community="UCI"`},
		"request":     {"max-age=0"},
		"max-stale":   {"max-stale, no-cache"},
		"malformed":   {"max-age =3600, foo= bar, =, \"x\""},
		"long number": {"max-age=99999999999999999999999999"},
	}
}

// TestParseDoesNotAllocate keeps the hot path free of heap allocations:
// parsing and reading the typed values of the common cases.
func TestParseDoesNotAllocate(t *testing.T) {
	for name, lines := range hotInputs() {
		t.Run(name, func(t *testing.T) {
			var sink bool
			allocs := testing.AllocsPerRun(100, func() {
				r := ParseResponse(lines)
				_, ok := r.MaxAge()
				_, ok2 := r.SMaxAge()
				_, v := r.Extension("community")
				sink = ok || ok2 || v || r.NoCache() || r.NoStore() || r.Private() || r.Public() || r.Defects() != 0
				q := ParseRequest(lines)
				_, ok = q.MaxStale()
				sink = sink || ok || q.NoCache()
			})
			if allocs != 0 {
				t.Errorf("ParseResponse+ParseRequest(%q): %v allocations, want 0", lines, allocs)
			}
			_ = sink
		})
	}
}

func BenchmarkParseResponse(b *testing.B) {
	for name, lines := range hotInputs() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := ParseResponse(lines)
				if _, ok := r.MaxAge(); ok && r.NoStore() {
					b.Fatal("unexpected")
				}
			}
		})
	}
}

func BenchmarkParseRequest(b *testing.B) {
	for _, name := range []string{"request", "max-stale", "typical"} {
		lines := hotInputs()[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := ParseRequest(lines)
				if r.OnlyIfCached() {
					b.Fatal("unexpected")
				}
			}
		})
	}
}

func BenchmarkParseTargeted(b *testing.B) {
	for _, name := range []string{"typical", "qualified", "two lines"} {
		lines := hotInputs()[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := ParseTargeted(lines); !ok {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func BenchmarkFields(b *testing.B) {
	r := ParseResponse([]string{`private="Set-Cookie, Authorization-Info", max-age=60, x=1`})
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for range r.PrivateFields() {
			n++
		}
		for range r.Extensions() {
			n++
		}
		if n != 3 {
			b.Fatal(n)
		}
	}
}
