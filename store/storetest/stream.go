// The streaming tests: for stores that implement store.Streamer.

package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/notmod/notmod/store"
)

// streamSize is the size of the large values the streaming tests write:
// past 1 MiB, so that a store that sends a stream to its backend a
// megabyte at a time has sent some of it before the commit.
const streamSize = 1<<20 + 100<<10

// streamer returns s as a store.Streamer, or skips the test.
func streamer(t *testing.T, s store.Store) store.Streamer {
	t.Helper()
	st, ok := store.StreamerOf(s)
	if !ok {
		t.Skip("storetest: the store does not stream values (store.Streamer)")
	}
	return st
}

// writeStream writes value under key as a stream, in pieces of piece
// bytes (or with io.Copy, which uses ReadFrom when the writer has it, when
// piece is 0), and commits it.
func writeStream(t *testing.T, st store.Streamer, key string, value []byte, piece int, ttl time.Duration) {
	t.Helper()
	w, err := st.CreateStream(t.Context(), key, ttl)
	if err != nil {
		t.Fatalf("CreateStream(%q): %v", key, err)
	}
	defer w.Close()
	if err := writePieces(w, value, piece); err != nil {
		t.Fatalf("writing %d bytes to the stream of %q: %v", len(value), key, err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit of %q: %v", key, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close after Commit of %q: %v", key, err)
	}
}

func writePieces(w io.Writer, value []byte, piece int) error {
	if piece == 0 {
		n, err := io.Copy(w, bytes.NewReader(value))
		if err == nil && n != int64(len(value)) {
			err = fmt.Errorf("storetest: io.Copy wrote %d bytes of %d", n, len(value))
		}
		return err
	}
	for rest := value; len(rest) > 0; {
		k := min(piece, len(rest))
		n, err := w.Write(rest[:k])
		if err != nil {
			return err
		}
		if n != k {
			return fmt.Errorf("storetest: Write took %d bytes of %d", n, k)
		}
		rest = rest[k:]
	}
	return nil
}

// wantStream fails the test unless OpenStream of key reads want whole.
func wantStream(t *testing.T, st store.Streamer, key string, want []byte) {
	t.Helper()
	r, err := st.OpenStream(t.Context(), key)
	if err != nil {
		t.Fatalf("OpenStream(%q): %v", key, err)
	}
	defer r.Close()
	if r.Size() != int64(len(want)) {
		t.Fatalf("OpenStream(%q).Size() = %d, want %d", key, r.Size(), len(want))
	}
	var got bytes.Buffer
	if _, err := io.Copy(&got, r); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("reading the stream of %q: %s", key, describe(got.Bytes(), err, want))
	}
}

// wantStreamMissing fails the test unless OpenStream of key returns
// store.ErrNotFound.
func wantStreamMissing(t *testing.T, st store.Streamer, key string) {
	t.Helper()
	r, err := st.OpenStream(t.Context(), key)
	if err == nil {
		r.Close()
	}
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OpenStream(%q) = %v, want store.ErrNotFound", key, err)
	}
}

// testStreamRoundTrip writes values of many sizes as streams and reads
// them back with Get, OpenStream and Seek; a value written with Set reads
// back as a stream too.
func testStreamRoundTrip(t *testing.T, s store.Store, _ Options) {
	st := streamer(t, s)
	for i, size := range []int{0, 1, 65535, 65536, 65537, 3*65536 + 17, streamSize} {
		for _, piece := range []int{7919, 0} {
			t.Run(fmt.Sprintf("size=%d/piece=%d", size, piece), func(t *testing.T) {
				key := fmt.Sprintf("storetest/stream/roundtrip/%d", size)
				value := randomBytes(size, uint64(100+i))
				writeStream(t, st, key, value, piece, 0)
				wantValue(t, s, key, value)
				wantStream(t, st, key, value)
				if r, ok := s.(store.Ranger); ok {
					wantKeys(t, r, key, []string{key})
				}
				testSeek(t, st, key, value)
				mustDelete(t, s, key)
				wantMissing(t, s, key)
				wantStreamMissing(t, st, key)
			})
		}
	}
	t.Run("set then stream", func(t *testing.T) {
		key := "storetest/stream/roundtrip/set"
		value := randomBytes(200<<10, 3)
		mustSet(t, s, key, value, 0)
		wantStream(t, st, key, value)
		testSeek(t, st, key, value)
	})
	t.Run("missing", func(t *testing.T) {
		wantStreamMissing(t, st, "storetest/stream/roundtrip/missing")
	})
	t.Run("writer used after commit", func(t *testing.T) {
		key := "storetest/stream/roundtrip/done"
		w, err := st.CreateStream(t.Context(), key, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if _, err := w.Write([]byte("once")); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err == nil {
			t.Error("a second Commit returned nil")
		}
		if _, err := w.Write([]byte("twice")); err == nil {
			t.Error("Write after Commit returned nil")
		}
		if err := w.Close(); err != nil {
			t.Errorf("Close after Commit: %v", err)
		}
		wantValue(t, s, key, []byte("once"))
	})
}

// testSeek reads value, stored under key, from several offsets.
func testSeek(t *testing.T, st store.Streamer, key string, value []byte) {
	t.Helper()
	r, err := st.OpenStream(t.Context(), key)
	if err != nil {
		t.Fatalf("OpenStream(%q): %v", key, err)
	}
	defer r.Close()
	size := int64(len(value))
	offsets := []int64{0, 1, size / 2, 65535, 65536, 65537, size - 1, size}
	buf := make([]byte, 100)
	for _, off := range offsets {
		if off < 0 || off > size {
			continue
		}
		pos, err := r.Seek(off, io.SeekStart)
		if err != nil || pos != off {
			t.Fatalf("Seek(%d, SeekStart) = %d, %v", off, pos, err)
		}
		want := value[off:min(off+100, size)]
		n, err := io.ReadFull(r, buf[:len(want)])
		if err != nil || !bytes.Equal(buf[:n], want) {
			t.Fatalf("reading %d bytes at %d of %d: %s", len(want), off, size, describe(buf[:n], err, want))
		}
		if n, err := r.Read(buf[:0]); n != 0 || err != nil && err != io.EOF {
			t.Fatalf("an empty Read at %d: %d, %v", off+int64(len(want)), n, err)
		}
	}
	// From the end, and back to the start after io.EOF.
	if pos, err := r.Seek(0, io.SeekEnd); err != nil || pos != size {
		t.Fatalf("Seek(0, SeekEnd) = %d, %v; want %d", pos, err, size)
	}
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read at the end: %d, %v; want 0, io.EOF", n, err)
	}
	if size >= 10 {
		if pos, err := r.Seek(-10, io.SeekEnd); err != nil || pos != size-10 {
			t.Fatalf("Seek(-10, SeekEnd) = %d, %v", pos, err)
		}
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, value[size-10:]) {
			t.Fatalf("the last 10 bytes: %s", describe(got, err, value[size-10:]))
		}
		if pos, err := r.Seek(-5, io.SeekCurrent); err != nil || pos != size-5 {
			t.Fatalf("Seek(-5, SeekCurrent) = %d, %v", pos, err)
		}
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("Seek to a negative offset returned nil")
	}
	if pos, err := r.Seek(0, io.SeekStart); err != nil || pos != 0 {
		t.Fatalf("Seek(0, SeekStart) = %d, %v", pos, err)
	}
	var got bytes.Buffer
	if _, err := io.Copy(&got, r); err != nil || !bytes.Equal(got.Bytes(), value) {
		t.Fatalf("reading again from the start: %s", describe(got.Bytes(), err, value))
	}
}

// testStreamAbort checks that a stream closed without a commit leaves
// nothing: the key keeps its previous value, or stays missing.
func testStreamAbort(t *testing.T, s store.Store, _ Options) {
	st := streamer(t, s)
	old := []byte("the previous value")
	for name, previous := range map[string][]byte{"over a value": old, "over nothing": nil} {
		t.Run(name, func(t *testing.T) {
			key := "storetest/stream/abort/" + name
			if previous != nil {
				mustSet(t, s, key, previous, 0)
			}
			for _, size := range []int{0, 1000, streamSize} {
				w, err := st.CreateStream(t.Context(), key, 0)
				if err != nil {
					t.Fatal(err)
				}
				if err := writePieces(w, randomBytes(size, 9), 10007); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatalf("Close without Commit: %v", err)
				}
				if previous != nil {
					wantValue(t, s, key, previous)
					wantStream(t, st, key, previous)
				} else {
					wantMissing(t, s, key)
					wantStreamMissing(t, st, key)
					if r, ok := s.(store.Ranger); ok {
						wantKeys(t, r, key, nil)
					}
				}
			}
			// The key takes a stream after the aborted ones.
			value := randomBytes(5000, 10)
			writeStream(t, st, key, value, 0, 0)
			wantValue(t, s, key, value)
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		key := "storetest/stream/abort/cancelled"
		mustSet(t, s, key, old, 0)
		ctx, cancel := context.WithCancel(t.Context())
		w, err := st.CreateStream(ctx, key, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		value := randomBytes(streamSize, 11)
		werr := writePieces(w, value[:streamSize/2], 65536)
		cancel()
		if werr == nil {
			werr = writePieces(w, value[streamSize/2:], 65536)
		}
		if werr == nil {
			werr = w.Commit()
		}
		w.Close()
		// Nothing else than the old value or the whole new one.
		got, err := s.Get(t.Context(), key)
		if err != nil || !bytes.Equal(got, old) && !bytes.Equal(got, value) {
			t.Fatalf("after a stream whose context ended (%v): %s", werr, describe(got, err, old))
		}
		if werr != nil && bytes.Equal(got, value) {
			t.Logf("the commit happened although it reported %v (allowed when the context ended while it waited)", werr)
		}
	})
}

// testStreamWhole checks that a stream is invisible until its commit,
// then visible whole, and that a value written while readers read is only
// ever seen whole.
func testStreamWhole(t *testing.T, s store.Store, _ Options) {
	st := streamer(t, s)
	t.Run("invisible until commit", func(t *testing.T) {
		key := "storetest/stream/whole/one"
		old := sealed(key, 1, 1000)
		mustSet(t, s, key, old, 0)
		value := sealed(key, 2, streamSize)
		w, err := st.CreateStream(t.Context(), key, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for off := 0; off < len(value); off += 256 << 10 {
			if err := writePieces(w, value[off:min(off+256<<10, len(value))], 65536); err != nil {
				t.Fatal(err)
			}
			wantValue(t, s, key, old)
			wantStream(t, st, key, old)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		wantValue(t, s, key, value)
		wantStream(t, st, key, value)
	})
	t.Run("concurrent", func(t *testing.T) {
		const (
			writers = 3
			readers = 3
			keys    = 4
		)
		rounds := 12
		if testing.Short() {
			rounds = 4
		}
		key := func(i int) string { return fmt.Sprintf("storetest/stream/whole/shared/%d", i) }
		ctx, stop := context.WithCancel(t.Context())
		defer stop()
		var wg, rg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 13))
				for i := range rounds {
					k := key(rng.IntN(keys))
					w, err := st.CreateStream(ctx, k, 0)
					if err != nil {
						t.Errorf("CreateStream(%q): %v", k, err)
						return
					}
					value := sealed(k, uint64(g)<<32|uint64(i), 64<<10+rng.IntN(256<<10))
					err = writePieces(w, value, 1+rng.IntN(100<<10))
					if err == nil && rng.IntN(4) > 0 {
						err = w.Commit()
					}
					w.Close()
					if err != nil {
						t.Errorf("writing the stream of %q: %v", k, err)
						return
					}
				}
			})
		}
		for g := range readers {
			rg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 17))
				for ctx.Err() == nil {
					k := key(rng.IntN(keys))
					if got, err := s.Get(ctx, k); err == nil {
						if _, err := unseal(k, got); err != nil {
							t.Errorf("Get(%q) while streams were written: %v", k, err)
							return
						}
					} else if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
						t.Errorf("Get(%q): %v", k, err)
						return
					}
					r, err := st.OpenStream(ctx, k)
					if err != nil {
						continue
					}
					got, err := io.ReadAll(r)
					r.Close()
					if err != nil {
						continue // overwritten while read: failing is allowed
					}
					if _, err := unseal(k, got); err != nil {
						t.Errorf("reading the stream of %q while streams were written: %v", k, err)
						return
					}
				}
			})
		}
		wg.Wait()
		stop()
		rg.Wait()
	})
}

// testStreamReaderChanged checks what a reader does when its key is
// overwritten or deleted while it reads: it goes on with the value it
// opened, or fails, and never returns bytes of another value or ends
// early.
func testStreamReaderChanged(t *testing.T, s store.Store, o Options) {
	st := streamer(t, s)
	changes := map[string]func(t *testing.T, key string){
		"set": func(t *testing.T, key string) { mustSet(t, s, key, randomBytes(300<<10, 21), 0) },
		"stream": func(t *testing.T, key string) {
			writeStream(t, st, key, randomBytes(300<<10, 22), 0, 0)
		},
		"delete": func(t *testing.T, key string) { mustDelete(t, s, key) },
	}
	if o.Advance != nil {
		changes["expire"] = func(t *testing.T, key string) { o.Advance(time.Hour) }
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			key := "storetest/stream/changed/" + name
			value := randomBytes(300<<10, 20)
			writeStream(t, st, key, value, 0, 30*time.Minute)
			r, err := st.OpenStream(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			head := make([]byte, 1000)
			if _, err := io.ReadFull(r, head); err != nil {
				t.Fatal(err)
			}
			change(t, key)
			rest, err := io.ReadAll(r)
			got := append(head, rest...)
			if !bytes.HasPrefix(value, got) {
				t.Fatalf("a reader whose key changed (%s) returned bytes of another value: %s", name, describe(got, nil, value[:len(got)]))
			}
			if err == nil && len(got) != len(value) {
				t.Fatalf("a reader whose key changed (%s) ended after %d bytes of %d without an error", name, len(got), len(value))
			}
			if err != nil {
				// Failed cleanly: later reads fail too.
				if n, err2 := r.Read(head); n != 0 || err2 == nil {
					t.Fatalf("Read after the reader failed with %v: %d bytes, %v", err, n, err2)
				}
			}
		})
	}
}

// testStreamExpire checks the expiry of streamed values and Expire.
func testStreamExpire(t *testing.T, s store.Store, o Options) {
	st := streamer(t, s)
	ctx := t.Context()
	if err := st.Expire(ctx, "storetest/stream/expire/missing", time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Expire of a missing key = %v, want store.ErrNotFound", err)
	}
	if o.Advance == nil {
		t.Skip("storetest: Options.Advance is nil")
	}
	key := "storetest/stream/expire/k"
	value := randomBytes(100<<10, 30)
	writeStream(t, st, key, value, 0, 10*time.Second)
	o.Advance(5 * time.Second)
	if err := st.Expire(ctx, key, 20*time.Second); err != nil {
		t.Fatalf("Expire: %v", err)
	}
	o.Advance(10 * time.Second) // past the ttl of the commit, before Expire's
	wantStream(t, st, key, value)
	o.Advance(11 * time.Second) // past Expire's
	wantMissing(t, s, key)
	wantStreamMissing(t, st, key)
	if err := st.Expire(ctx, key, time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Expire of an expired key = %v, want store.ErrNotFound", err)
	}

	// ttl <= 0: never, for a value written with Set too.
	key = "storetest/stream/expire/set"
	mustSet(t, s, key, value, 10*time.Second)
	if err := st.Expire(ctx, key, 0); err != nil {
		t.Fatalf("Expire(0): %v", err)
	}
	o.Advance(1000 * time.Hour)
	wantValue(t, s, key, value)
}
