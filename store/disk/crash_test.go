package disk

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Environment of the child process of TestCrash.
const (
	crashPathEnv  = "NOTMOD_DISK_CRASH_PATH"
	crashRoundEnv = "NOTMOD_DISK_CRASH_ROUND"
)

// Shape of the child's writes: writers goroutines, each over keysPer keys
// of its own.
const (
	crashWriters = 4
	crashKeysPer = 40
)

// crashMaxBytes bounds the child's store with room for every key at its
// largest, so that nothing is evicted and every acknowledged write must
// survive.
const crashMaxBytes = 128 << 20

// crashStreamKeys is how many of each goroutine's keys are written as
// streams of 1 to 2 MiB, long enough to be flushed before their commit.
const crashStreamKeys = 4

// crashValue returns a value of about size bytes that names key and seq
// and ends in a checksum of everything before it, so that a torn value, a
// value mixed from two writes or one found under another key is caught.
func crashValue(key string, seq uint64, size int) []byte {
	b := binary.AppendUvarint(nil, uint64(len(key)))
	b = append(b, key...)
	b = binary.BigEndian.AppendUint64(b, seq)
	for i := range size {
		b = append(b, byte(seq)^byte(i*7))
	}
	return binary.BigEndian.AppendUint64(b, xxhash.Sum64(b))
}

// checkCrashValue checks a value made by crashValue for key and returns
// its seq.
func checkCrashValue(key string, v []byte) (uint64, error) {
	if len(v) < 8 {
		return 0, fmt.Errorf("value of %d bytes is too short", len(v))
	}
	body := v[:len(v)-8]
	if xxhash.Sum64(body) != binary.BigEndian.Uint64(v[len(body):]) {
		return 0, fmt.Errorf("value of %d bytes fails its checksum: torn or mixed", len(v))
	}
	n, w := binary.Uvarint(body)
	if w <= 0 || uint64(len(body)-w) < n+8 {
		return 0, errors.New("bad key length")
	}
	if got := string(body[w : w+int(n)]); got != key {
		return 0, fmt.Errorf("value written for %q found under %q", got, key)
	}
	return binary.BigEndian.Uint64(body[w+int(n):]), nil
}

func crashKey(g, k int) string { return fmt.Sprintf("crash/%d/%02d", g, k) }

// TestCrashHelper is the child process of TestCrash; run by itself it
// does nothing. It writes to the store at $NOTMOD_DISK_CRASH_PATH from
// several goroutines, with Set and with streams, forever, and prints
// "g k seq" once each write has returned. The parent kills it.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashPathEnv)
	if path == "" {
		t.Skip("run by TestCrash")
	}
	round, _ := strconv.ParseUint(os.Getenv(crashRoundEnv), 10, 64)
	s, err := New(Options{Path: path, MaxBytes: crashMaxBytes, Logger: quiet})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	// Should the parent die, stop in the end anyway.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range crashWriters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(round, uint64(g)))
			var open *Writer
			for i := uint64(0); ctx.Err() == nil; i++ {
				k := rng.IntN(crashKeysPer)
				key := crashKey(g, k)
				seq := round<<40 | uint64(g)<<32 | i
				var err error
				switch {
				case k >= crashStreamKeys:
					// From a few bytes to five chunks.
					err = s.Set(ctx, key, crashValue(key, seq, rng.IntN(5*chunkSize)>>(rng.IntN(4)*4)), 0)
				case rng.IntN(4) > 0:
					_, err = streamValue(ctx, s, key, crashValue(key, seq, streamFlush+rng.IntN(streamFlush)), true)
				default:
					// A stream never committed must leave no trace. It
					// is left open until the next one, so that the kill
					// finds one open in most goroutines.
					if open != nil {
						open.Close()
					}
					open, err = streamValue(ctx, s, key, crashValue(key, seq, streamFlush+rng.IntN(streamFlush)), false)
					if err == nil {
						continue
					}
				}
				if err != nil {
					fmt.Println("error", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(out, "%d %d %d\n", g, k, seq)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// streamValue writes v under key through a Writer in odd-sized pieces.
// With commit, it commits and closes the Writer; without, it returns it
// open.
func streamValue(ctx context.Context, s *Store, key string, v []byte, commit bool) (*Writer, error) {
	w, err := s.Create(ctx, key, 0)
	if err != nil {
		return nil, err
	}
	for rest := v; len(rest) > 0; {
		n := min(len(rest), 40_000)
		if _, err := w.Write(rest[:n]); err != nil {
			w.Close()
			return nil, err
		}
		rest = rest[n:]
	}
	if !commit {
		return w, nil
	}
	defer w.Close()
	return nil, w.Commit()
}

// TestCrash kills a process that writes to the store with SIGKILL at a
// random moment, several times over on the same file, and checks after
// each kill that the file opens, that every entry in it is whole and one
// the process wrote, that no write acknowledged before the kill was lost,
// and that nothing is counted corrupt.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	path := tempPath(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	const rounds = 4
	// acked[key] is the seq of the last write of key acknowledged by a
	// child, in any round.
	acked := map[string]uint64{}
	for round := 1; round <= rounds; round++ {
		killAfter := 50 + rng.IntN(400)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashPathEnv+"="+path, crashRoundEnv+"="+strconv.Itoa(round))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		n := 0
		for n < killAfter && sc.Scan() {
			var g, k int
			var seq uint64
			if _, err := fmt.Sscanf(sc.Text(), "%d %d %d", &g, &k, &seq); err != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("round %d: child said %q", round, sc.Text())
			}
			acked[crashKey(g, k)] = seq
			n++
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if n < killAfter {
			t.Fatalf("round %d: child stopped after %d writes, before the kill at %d", round, n, killAfter)
		}
		// Writes acknowledged between the kill and the wait count too.
		for sc.Scan() {
			var g, k int
			var seq uint64
			if _, err := fmt.Sscanf(sc.Text(), "%d %d %d", &g, &k, &seq); err == nil {
				acked[crashKey(g, k)] = seq
			}
		}
		verifyAfterCrash(t, path, round, acked)
		t.Logf("round %d: killed after %d acknowledged writes", round, n)
	}
}

// verifyAfterCrash opens the store a killed child left and checks it.
func verifyAfterCrash(t *testing.T, path string, round int, acked map[string]uint64) {
	t.Helper()
	ctx := t.Context()
	s, err := New(Options{Path: path, MaxBytes: crashMaxBytes, Logger: quiet})
	if err != nil {
		t.Fatalf("round %d: New after the kill: %v", round, err)
	}
	defer s.Close()
	found := map[string]uint64{}
	err = s.Keys(ctx, "", func(key string) bool {
		v, err := s.Get(ctx, key)
		if err != nil {
			t.Errorf("round %d: Keys passed %q, then Get: %v", round, key, err)
			return true
		}
		seq, err := checkCrashValue(key, v)
		if err != nil {
			t.Errorf("round %d: Get(%q): %v", round, key, err)
			return true
		}
		if !strings.HasPrefix(key, "crash/") || seq>>40 == 0 || seq>>40 > uint64(round) {
			t.Errorf("round %d: entry %q with seq %#x was never written", round, key, seq)
		}
		found[key] = seq
		return true
	})
	if err != nil {
		t.Fatalf("round %d: Keys: %v", round, err)
	}
	// An acknowledged write is there, or a later one of the same key.
	for key, seq := range acked {
		got, ok := found[key]
		switch {
		case !ok:
			t.Errorf("round %d: %q, acknowledged with seq %#x, is missing", round, key, seq)
		case got < seq:
			t.Errorf("round %d: %q holds seq %#x, older than the acknowledged %#x", round, key, got, seq)
		}
	}
	if st := s.Stats(); st.Corrupt != 0 || st.Evicted != 0 {
		t.Errorf("round %d: after the kill, %d entries found corrupt and %d evicted; want none", round, st.Corrupt, st.Evicted)
	}
	// No chunk of an uncommitted stream survives New.
	var live int64
	for key := range found {
		v, _ := s.Get(ctx, key)
		live += chunks(int64(len(v)))
	}
	if n := countChunks(t, s); int64(n) != live {
		t.Errorf("round %d: %d chunks in the file, %d belong to entries", round, n, live)
	}
}
