package disk

import (
	"bytes"
	"math"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	tests := map[string]struct {
		key string
		r   record
	}{
		"empty value, no expiry": {"k", record{id: 1, seq: 1}},
		"one chunk":              {"GET https://example.com/", record{id: 7, seq: 9, size: 100, expires: 1, sums: u64(42)}},
		"three chunks":           {"", record{id: math.MaxUint64, seq: 3, size: 2*chunkSize + 1, expires: math.MaxInt64, sums: bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 3)}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			b := appendRecord(nil, tt.key, &tt.r)
			if len(b) != recordLen(tt.r.size) {
				t.Errorf("record of %d bytes, recordLen says %d", len(b), recordLen(tt.r.size))
			}
			got, err := decodeRecord(tt.key, b)
			if err != nil {
				t.Fatal(err)
			}
			if got.id != tt.r.id || got.seq != tt.r.seq || got.size != tt.r.size || got.expires != tt.r.expires || !bytes.Equal(got.sums, tt.r.sums) {
				t.Errorf("decoded %+v, want %+v", got, tt.r)
			}
			// Under another key, or with any one bit flipped, it fails.
			if _, err := decodeRecord(tt.key+"x", b); err == nil {
				t.Error("record decoded under another key")
			}
			for i := range b {
				for bit := range 8 {
					d := bytes.Clone(b)
					d[i] ^= 1 << bit
					if _, err := decodeRecord(tt.key, d); err == nil {
						t.Fatalf("record with bit %d of byte %d flipped decoded", bit, i)
					}
				}
			}
		})
	}
}

func TestExpiresAt(t *testing.T) {
	tests := map[string]struct {
		now, ttl, want int64
	}{
		"no ttl":               {1000, 0, 0},
		"negative ttl":         {1000, -5, 0},
		"plain":                {1000, 5, 1005},
		"saturates":            {math.MaxInt64 - 3, 10, math.MaxInt64},
		"largest ttl":          {1, math.MaxInt64, math.MaxInt64},
		"before 1970, expired": {-100, 50, 1},
	}
	for name, tt := range tests {
		if got := expiresAt(tt.now, tt.ttl); got != tt.want {
			t.Errorf("%s: expiresAt(%d, %d) = %d, want %d", name, tt.now, tt.ttl, got, tt.want)
		}
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder, which
// reads what is on disk: it must never panic, and what it accepts must
// encode back to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add("k", appendRecord(nil, "k", &record{id: 1, seq: 2, size: 3, expires: 4, sums: u64(5)}))
	f.Add("", appendRecord(nil, "", &record{id: 1, seq: 1}))
	f.Add("k", []byte{formatVersion})
	f.Add("k", []byte{})
	f.Fuzz(func(t *testing.T, key string, b []byte) {
		r, err := decodeRecord(key, b)
		if err != nil {
			return
		}
		if got := appendRecord(nil, key, &r); !bytes.Equal(got, b) {
			t.Errorf("decoded %+v from %x, which encodes to %x", r, b, got)
		}
	})
}
