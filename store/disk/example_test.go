package disk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/disk"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "notmod-disk-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "cache.db")

	s, err := disk.New(disk.Options{Path: path, MaxBytes: 64 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Set(ctx, "GET https://example.com/", []byte("<html>hello</html>"), time.Hour); err != nil {
		fmt.Println(err)
		return
	}
	_, err = s.Get(ctx, "GET https://example.com/other")
	fmt.Println(err)
	if err := s.Close(); err != nil {
		fmt.Println(err)
		return
	}

	// The entry survives a restart.
	s, err = disk.New(disk.Options{Path: path, MaxBytes: 64 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	body, err := s.Get(ctx, "GET https://example.com/")
	fmt.Printf("%s %v\n", body, err)
	st := s.Stats()
	fmt.Println(st.Entries, "entry,", st.Bytes, "bytes,", st.Corrupt, "corrupt")

	err = s.Set(ctx, "huge", make([]byte, 64<<20), 0)
	fmt.Println(errors.Is(err, store.ErrTooLarge))
	// Output:
	// store: not found
	// <html>hello</html> <nil>
	// 1 entry, 412 bytes, 0 corrupt
	// true
}

// A large value is written and read as a stream, a chunk at a time; it
// becomes visible, whole, at Commit.
func ExampleStore_Create() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "notmod-disk-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	s := disk.Must(disk.Options{Path: filepath.Join(dir, "cache.db")})
	defer s.Close()

	w, err := s.Create(ctx, "GET https://example.com/video", 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	body := strings.NewReader(strings.Repeat("frame ", 1<<20)) // 6 MiB
	if _, err := io.Copy(w, body); err != nil {
		fmt.Println(err)
		return
	}
	_, err = s.Get(ctx, "GET https://example.com/video")
	fmt.Println("before Commit:", err)
	if err := w.Commit(); err != nil {
		fmt.Println(err)
		return
	}

	r, err := s.Open(ctx, "GET https://example.com/video")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	var out bytes.Buffer
	n, err := io.Copy(&out, r)
	fmt.Println("after Commit:", r.Size(), n, err, bytes.HasPrefix(out.Bytes(), []byte("frame frame")))
	// Output:
	// before Commit: store: not found
	// after Commit: 6291456 6291456 <nil> true
}
