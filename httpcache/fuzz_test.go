package httpcache

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
)

// FuzzDecodeEntry checks that decoding a stored value never panics, that
// a decoded entry's strings and slices lie within the value (decoding
// copies nothing) and cannot be appended to in place, and that encoding
// it again gives an entry that decodes the same.
func FuzzDecodeEntry(f *testing.F) {
	full := sampleEntry()
	f.Add(full.encode(nil))
	minimal := entry{status: 204, requestTime: t0, responseTime: t0, swr: -1, sie: -1}
	f.Add(minimal.encode(nil))
	c, _ := newTestCache(f, Options{})
	h := header("Cache-Control", "max-age=60, stale-if-error=30", "Etag", `W/"x"`, "Vary", "Accept-Encoding",
		"Last-Modified", httpDate(t0.Add(-time.Hour)), "Date", httpDate(t0), "Content-Type", "text/html")
	stored, _ := c.newEntry(h, http.StatusOK, []byte("<p>hi</p>"), t0, t0, "Accept-Encoding=gzip\n")
	b := stored.encode(nil)
	f.Add(b)
	f.Add(b[:len(b)-1])
	f.Add(b[:entryFixed])
	f.Add([]byte{})
	f.Add([]byte{kindEntry, version})
	streamed := stored
	streamed.flags |= flagStream
	streamed.body, streamed.stream, streamed.size = nil, "1 http://example.com/big\x00s0123456789abcdef", 5<<20
	f.Add(streamed.encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e entry
		if err := decodeEntry(b, &e); err != nil {
			if err != errCorrupt {
				t.Fatalf("decodeEntry error %v, want errCorrupt", err)
			}
			return
		}
		if msg := slicesWithin(b, &e); msg != "" {
			t.Fatal(msg)
		}
		if e.status < 100 || e.status > 999 {
			t.Fatalf("decoded status %d", e.status)
		}
		again := e.encode(nil)
		if !bytes.Equal(again[entryFixed:], b[entryFixed:]) {
			t.Fatalf("re-encoded parts differ:\n got %q\nwant %q", again[entryFixed:], b[entryFixed:])
		}
		var e2 entry
		if err := decodeEntry(again, &e2); err != nil {
			t.Fatalf("decoding the re-encoding: %v", err)
		}
		if d := sameEntry(&e2, &e); d != "" {
			t.Fatalf("re-encoding changed %s", d)
		}
		// Walking the stored fields stays within them.
		e.fields(func(name, value string) bool {
			if name == "" || strings.Contains(name, ":") || strings.Contains(value, "\r\n") {
				t.Fatalf("field %q: %q", name, value)
			}
			return true
		})
	})
}

// FuzzDecodeVariants checks that decoding a Vary record never panics,
// allocates in proportion to its input, and that a decoded record
// survives a round trip.
func FuzzDecodeVariants(f *testing.F) {
	f.Add((&variantRecord{names: []string{"Accept-Encoding"}}).encode())
	r := &variantRecord{names: []string{"Accept-Encoding", "Origin"}}
	r.put(variant{key: "1 example.com/\x00abc", etag: `"x"`})
	r.put(variant{key: "1 example.com/\x00def"})
	b := r.encode()
	f.Add(b)
	f.Add(b[:len(b)-1])
	f.Add([]byte{kindVariant, version, 0, 0, 0, 0, 0xff, 0xff})
	f.Add([]byte{kindVariant, version, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeVariants(b)
		if err != nil {
			if err != errCorrupt || r != nil {
				t.Fatalf("decodeVariants = %v, %v; want nil, errCorrupt", r, err)
			}
			return
		}
		total := 0
		for _, n := range r.names {
			if n == "" || strings.Contains(n, ",") {
				t.Fatalf("decoded name %q", n)
			}
			total += len(n)
		}
		// Every variant takes at least two 4-byte length prefixes.
		if 2+4+2+8*len(r.variants) > len(b) {
			t.Fatalf("%d variants from %d bytes", len(r.variants), len(b))
		}
		for _, v := range r.variants {
			total += len(v.key) + len(v.etag)
		}
		if total > len(b) {
			t.Fatalf("%d bytes of strings from %d bytes", total, len(b))
		}
		r2, err := decodeVariants(r.encode())
		if err != nil {
			t.Fatalf("decoding the re-encoding: %v", err)
		}
		if !slices.Equal(r2.names, r.names) || !slices.Equal(r2.variants, r.variants) {
			t.Fatalf("round trip: %+v, want %+v", r2, r)
		}
	})
}

// FuzzStatusAppendTo checks that a Cache-Status member is always a valid
// RFC 8941 List with one member, whatever the cache name and detail, and
// that what it says can be read back (RFC 9211 §2).
func FuzzStatusAppendTo(f *testing.F) {
	f.Add("notmod", "", true, uint8(0), uint16(0), false, false, int64(60e9), true)
	f.Add("Example CDN", "origin unreachable", false, uint8(FwdStale), uint16(504), false, false, int64(-10e9), true)
	f.Add("", "no-store", false, uint8(FwdURIMiss), uint16(200), true, true, int64(0), false)
	f.Add("1a", "a\"b\\c\x00é", false, uint8(99), uint16(999), true, false, int64(-1), true)
	f.Add("*", "*", true, uint8(FwdMethod), uint16(65535), false, true, int64(1<<62), true)
	f.Fuzz(func(t *testing.T, name, detail string, hit bool, fwd uint8, fwdStatus uint16, stored, collapsed bool, ttl int64, hasTTL bool) {
		s := Status{
			Hit: hit, Fwd: Fwd(fwd), FwdStatus: int(fwdStatus % 1000), Stored: stored, Collapsed: collapsed,
			TTL: time.Duration(ttl), HasTTL: hasTTL, Detail: detail,
		}
		out := string(s.AppendTo(nil, name))
		list, err := httpsfv.UnmarshalList([]string{out})
		if err != nil {
			t.Fatalf("%q is not an RFC 8941 List: %v", out, err)
		}
		if len(list) != 1 {
			t.Fatalf("%q has %d members, want 1", out, len(list))
		}
		item, ok := list[0].(httpsfv.Item)
		if !ok {
			t.Fatalf("%q: member is %T, want an Item", out, list[0])
		}
		if got, want := itemString(item.Value), printable(name); got != want {
			t.Errorf("%q: cache name %q, want %q", out, got, want)
		}
		if v, ok := item.Params.Get("hit"); ok != hit || ok && v != true {
			t.Errorf("%q: hit = %v, %v; want %v", out, v, ok, hit)
		}
		if v, ok := item.Params.Get("fwd"); ok != (s.Fwd != FwdNone) || ok && v != httpsfv.Token(s.Fwd.String()) {
			t.Errorf("%q: fwd = %v, %v; want %q", out, v, ok, s.Fwd)
		}
		if v, ok := item.Params.Get("ttl"); ok != hasTTL || ok && v != int64(s.TTL/time.Second) {
			t.Errorf("%q: ttl = %v, %v; want %d", out, v, ok, s.TTL/time.Second)
		}
		if v, ok := item.Params.Get("detail"); ok != (detail != "") || ok && itemString(v) != printable(detail) {
			t.Errorf("%q: detail = %v, %v; want %q", out, v, ok, printable(detail))
		}
	})
}

// itemString returns the text of a Token or String bare item.
func itemString(v any) string {
	switch v := v.(type) {
	case httpsfv.Token:
		return string(v)
	case string:
		return v
	}
	return "<not a token or string>"
}

// printable returns the visible ASCII and spaces of s, what an sf-string
// can hold (RFC 8941 §3.3.3).
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x20 && s[i] <= 0x7e {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// FuzzAgeValue checks that any Age field gives an age between 0 and
// 2^31 seconds (§1.2.2), equal to the number it holds when it is one
// delta-seconds (§5.1).
func FuzzAgeValue(f *testing.F) {
	for _, s := range []string{"0", "60", " 7 ", "2147483648", "99999999999999999999", "-1", "1.5", "1, 2", "", "10;x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ageValue([]string{s})
		if got < 0 || got > invalidAge {
			t.Fatalf("ageValue(%q) = %v", s, got)
		}
		if n, err := strconv.ParseUint(strings.Trim(s, " \t"), 10, 64); err == nil && n < 1<<31 && got != time.Duration(n)*time.Second {
			t.Fatalf("ageValue(%q) = %v, want %ds", s, got, n)
		}
	})
}
