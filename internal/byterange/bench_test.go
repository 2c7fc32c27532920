package byterange

import (
	"io"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	benchmarks := map[string]string{
		"single":   "bytes=0-499",
		"open":     "bytes=9500-",
		"suffix":   "bytes=-500",
		"multiple": "bytes= 0-999, 4500-5499, -1000",
		"invalid":  "bytes=5-1",
	}
	for name, header := range benchmarks {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Parse(header, 10000)
			}
		})
	}
}

func BenchmarkPlan(b *testing.B) {
	content := representation(1 << 20)
	benchmarks := map[string][]Range{
		"single":   {{0, 64 << 10}},
		"multiple": {{0, 64 << 10}, {512 << 10, 64 << 10}, {1<<20 - 1000, 1000}},
	}
	for name, rs := range benchmarks {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := NewPlan(content, rs, "application/octet-stream", "")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
