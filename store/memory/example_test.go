package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/memory"
)

func Example() {
	ctx := context.Background()
	s, err := memory.New(memory.Options{MaxBytes: 64 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}

	if err := s.Set(ctx, "GET https://example.com/", []byte("<html>hello</html>"), time.Minute); err != nil {
		fmt.Println(err)
		return
	}
	body, err := s.Get(ctx, "GET https://example.com/")
	fmt.Printf("%s %v\n", body, err)
	_, err = s.Get(ctx, "GET https://example.com/other")
	fmt.Println(err)
	fmt.Println(s.Len(), "entry,", s.Bytes(), "bytes")

	err = s.Set(ctx, "huge", make([]byte, 64<<20), 0)
	fmt.Println(errors.Is(err, memory.ErrTooLarge))
	// Output:
	// <html>hello</html> <nil>
	// store: not found
	// 1 entry, 170 bytes
	// true
}

// A test moves an injected clock by hand instead of sleeping.
func Example_clock() {
	ctx := context.Background()
	var nanos atomic.Int64
	nanos.Store(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	s := memory.Must(memory.Options{
		Clock: func() time.Time { return time.Unix(0, nanos.Load()) },
	})

	_ = s.Set(ctx, "k", []byte("v"), time.Minute)
	nanos.Add(int64(59 * time.Second))
	v, err := s.Get(ctx, "k")
	fmt.Printf("after 59s: %s %v\n", v, err)
	nanos.Add(int64(2 * time.Second))
	_, err = s.Get(ctx, "k")
	fmt.Println("after 61s:", errors.Is(err, store.ErrNotFound))
	// Output:
	// after 59s: v <nil>
	// after 61s: true
}
