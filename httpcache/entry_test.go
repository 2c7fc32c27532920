package httpcache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/http"
	"testing"
	"time"
	"unsafe"
)

// sampleEntry returns an entry with every field set.
func sampleEntry() entry {
	return entry{
		status:       http.StatusOK,
		flags:        flagMustRevalidate | flagHasLength,
		requestTime:  t0.Add(-1500 * time.Millisecond),
		responseTime: t0,
		initialAge:   3 * time.Second,
		lifetime:     time.Minute,
		swr:          -1,
		sie:          30 * time.Second,
		lastModified: t0.Add(-time.Hour),
		date:         t0.Add(-time.Second),
		etag:         `"v1"`,
		vary:         "Accept-Encoding=gzip\n",
		header:       []byte("Cache-Control: max-age=60\r\nEtag: \"v1\"\r\n"),
		body:         []byte("hello, world"),
	}
}

// sameEntry reports how a differs from b, or "".
func sameEntry(a, b *entry) string {
	switch {
	case a.status != b.status:
		return "status"
	case a.flags != b.flags:
		return "flags"
	case !a.requestTime.Equal(b.requestTime):
		return "requestTime"
	case !a.responseTime.Equal(b.responseTime):
		return "responseTime"
	case a.initialAge != b.initialAge:
		return "initialAge"
	case a.lifetime != b.lifetime:
		return "lifetime"
	case a.swr != b.swr:
		return "swr"
	case a.sie != b.sie:
		return "sie"
	case !a.lastModified.Equal(b.lastModified):
		return "lastModified"
	case !a.date.Equal(b.date):
		return "date"
	case a.etag != b.etag:
		return "etag"
	case a.vary != b.vary:
		return "vary"
	case !bytes.Equal(a.header, b.header):
		return "header"
	case !bytes.Equal(a.body, b.body):
		return "body"
	case a.stream != b.stream:
		return "stream"
	case a.size != b.size:
		return "size"
	}
	return ""
}

func TestEntryRoundTrip(t *testing.T) {
	full := sampleEntry()
	tests := map[string]entry{
		// §3: a stored response with every field.
		"full": full,
		// §3: no validators, no Date, no content.
		"minimal": {status: 204, requestTime: t0, responseTime: t0, swr: -1, sie: -1},
		// §3: any final status with explicit freshness may be stored.
		"999": {status: 999, requestTime: t0, responseTime: t0, lifetime: time.Hour, swr: -1, sie: -1, body: []byte{0, 1, 2}},
		// §4.2.1, §5.1: an invalid Age is kept as it is.
		"invalid age": {status: 200, requestTime: t0, responseTime: t0, initialAge: invalidAge, swr: 10 * time.Second, sie: -1},
	}
	for name, e := range tests {
		t.Run(name, func(t *testing.T) {
			b := e.encode(nil)
			var got entry
			if err := decodeEntry(b, &got); err != nil {
				t.Fatalf("decodeEntry: %v", err)
			}
			if d := sameEntry(&got, &e); d != "" {
				t.Errorf("round trip changed %s: got %+v, want %+v", d, got, e)
			}
			if again := got.encode(nil); !bytes.Equal(again, b) {
				t.Errorf("re-encoding differs:\n got %q\nwant %q", again, b)
			}
			// encode appends.
			pre := []byte("prefix")
			if a := e.encode(pre); !bytes.Equal(a[:len(pre)], pre) || !bytes.Equal(a[len(pre):], b) {
				t.Errorf("encode(prefix) does not append")
			}
		})
	}
}

// TestDecodeEntryDoesNotCopy checks that the decoded strings and slices
// point into the stored value, with no room to append over it.
func TestDecodeEntryDoesNotCopy(t *testing.T) {
	e := sampleEntry()
	b := e.encode(nil)
	var got entry
	if err := decodeEntry(b, &got); err != nil {
		t.Fatal(err)
	}
	if msg := slicesWithin(b, &got); msg != "" {
		t.Error(msg)
	}
	if n := testing.AllocsPerRun(100, func() { _ = decodeEntry(b, &got) }); n != 0 {
		t.Errorf("decodeEntry: %v allocations, want 0", n)
	}
}

// slicesWithin reports which decoded part of e does not lie within b, or
// whose capacity reaches past its length, or "".
func slicesWithin(b []byte, e *entry) string {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	hi := lo + uintptr(len(b))
	within := func(p unsafe.Pointer, n int) bool {
		if n == 0 {
			return true
		}
		a := uintptr(p)
		return a >= lo && a+uintptr(n) <= hi
	}
	switch {
	case !within(unsafe.Pointer(unsafe.StringData(e.etag)), len(e.etag)):
		return "etag lies outside the input"
	case !within(unsafe.Pointer(unsafe.StringData(e.vary)), len(e.vary)):
		return "vary lies outside the input"
	case !within(unsafe.Pointer(unsafe.SliceData(e.header)), len(e.header)):
		return "header lies outside the input"
	case !within(unsafe.Pointer(unsafe.SliceData(e.body)), len(e.body)):
		return "body lies outside the input"
	case !within(unsafe.Pointer(unsafe.StringData(e.stream)), len(e.stream)):
		return "stream key lies outside the input"
	case cap(e.header) != len(e.header):
		return "header can be appended to in place"
	case cap(e.body) != len(e.body):
		return "body can be appended to in place"
	}
	return ""
}

func TestDecodeEntryTruncated(t *testing.T) {
	e := sampleEntry()
	b := e.encode(nil)
	for n := range len(b) {
		var e entry
		if err := decodeEntry(b[:n:n], &e); !errors.Is(err, errCorrupt) {
			t.Errorf("decodeEntry of the first %d of %d bytes = %v, want errCorrupt", n, len(b), err)
		}
	}
	// A byte too many is as corrupt as one too few.
	if err := decodeEntry(append(b[:len(b):len(b)], 0), &e); !errors.Is(err, errCorrupt) {
		t.Errorf("decodeEntry with a trailing byte = %v, want errCorrupt", err)
	}
}

// TestDecodeEntryFlippedLength flips every bit of every length prefix.
func TestDecodeEntryFlippedLength(t *testing.T) {
	sample := sampleEntry()
	good := sample.encode(nil)
	// Offsets of the four length prefixes: etag, vary, header, body.
	var prefixes []int
	off := entryFixed
	for range 4 {
		prefixes = append(prefixes, off)
		off += 4 + int(binary.BigEndian.Uint32(good[off:]))
	}
	if off != len(good) {
		t.Fatalf("length prefixes end at %d, want %d", off, len(good))
	}
	for i, p := range prefixes {
		for bit := range 32 {
			b := bytes.Clone(good)
			binary.BigEndian.PutUint32(b[p:], binary.BigEndian.Uint32(b[p:])^1<<bit)
			var e entry
			if err := decodeEntry(b, &e); !errors.Is(err, errCorrupt) {
				t.Errorf("length prefix %d with bit %d flipped: decodeEntry = %v, want errCorrupt", i, bit, err)
			}
		}
	}
}

func TestDecodeEntryCorrupt(t *testing.T) {
	sample := sampleEntry()
	good := sample.encode(nil)
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := map[string][]byte{
		"nil":            nil,
		"empty":          {},
		"kind only":      {kindEntry},
		"fixed part":     good[:entryFixed],
		"wrong kind":     with(func(b []byte) []byte { b[0] = kindVariant; return b }),
		"wrong version":  with(func(b []byte) []byte { b[1] = version + 1; return b }),
		"status 0":       with(func(b []byte) []byte { binary.BigEndian.PutUint16(b[2:], 0); return b }),
		"status 99":      with(func(b []byte) []byte { binary.BigEndian.PutUint16(b[2:], 99); return b }),
		"status 1000":    with(func(b []byte) []byte { binary.BigEndian.PutUint16(b[2:], 1000); return b }),
		"status 65535":   with(func(b []byte) []byte { binary.BigEndian.PutUint16(b[2:], 65535); return b }),
		"all ones":       with(func(b []byte) []byte { return bytes.Repeat([]byte{0xff}, len(b)) }),
		"variant record": (&variantRecord{names: []string{"Accept"}, variants: []variant{{key: "k", etag: `"e"`}}}).encode(),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			var e entry
			if err := decodeEntry(b, &e); !errors.Is(err, errCorrupt) {
				t.Errorf("decodeEntry = %v, want errCorrupt", err)
			}
		})
	}
}

func TestEachField(t *testing.T) {
	type field struct{ name, value string }
	tests := map[string]struct {
		block string
		want  []field
	}{
		"empty":       {"", nil},
		"one":         {"A: b\r\n", []field{{"A", "b"}}},
		"two":         {"A: b\r\nC: d, e\r\n", []field{{"A", "b"}, {"C", "d, e"}}},
		"empty value": {"A: \r\n", []field{{"A", ""}}},
		// Malformed lines, which headerBlock never writes, are skipped.
		"no colon":       {"junk\r\nA: b\r\n", []field{{"A", "b"}}},
		"no name":        {": b\r\nA: b\r\n", []field{{"A", "b"}}},
		"no space":       {"A:\r\nB: c\r\n", []field{{"B", "c"}}},
		"unterminated":   {"A: b\r\nC: d", []field{{"A", "b"}}},
		"bare LF":        {"A: b\nC: d\r\n", []field{{"A", "b\nC: d"}}},
		"colon in value": {"A: b: c\r\n", []field{{"A", "b: c"}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var got []field
			eachField([]byte(tt.block), func(n, v string) bool {
				got = append(got, field{n, v})
				return true
			})
			if len(got) != len(tt.want) {
				t.Fatalf("fields = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("fields = %q, want %q", got, tt.want)
				}
			}
		})
	}
	// fn returning false stops the walk.
	n := 0
	eachField([]byte("A: 1\r\nB: 2\r\nC: 3\r\n"), func(string, string) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("eachField went on after false: %d calls, want 2", n)
	}
}
