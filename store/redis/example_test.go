package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/redis"
)

// Example needs a Redis on the default address, so it is compiled but not
// run: it has no Output comment. The tests run the same calls against a
// redis-server they start.
func Example() {
	ctx := context.Background()
	s, err := redis.New(ctx, redis.Options{
		URL:       "redis://127.0.0.1:6379/0",
		KeyPrefix: "notmod:",
		OnStateChange: func(state redis.State, err error) {
			slog.Info("redis state", "state", state, "err", err)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	if err := s.Set(ctx, "GET https://example.com/", []byte("<html>hello</html>"), time.Minute); err != nil {
		fmt.Println(err) // Redis down or slow: serve without the shared tier
	}
	body, err := s.Get(ctx, "GET https://example.com/")
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Println("miss")
	case err != nil:
		fmt.Println("store unavailable:", err)
	default:
		fmt.Printf("%s\n", body)
	}

	// Purges reach every node's subscription.
	sub := s.Subscribe(ctx, func(msg []byte) { fmt.Printf("purge %s\n", msg) })
	defer sub.Close()
	<-sub.Ready()
	_ = s.Publish(ctx, []byte("GET https://example.com/"))

	// One node at a time revalidates a key.
	ok, release, err := s.TryLease(ctx, "GET https://example.com/", 10*time.Second)
	if err == nil && ok {
		defer release()
		// ... send the conditional request to the origin ...
	}
}
