package tier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// LocalBus is a Bus within one process: several caches (tiered stores)
// sharing one Back in the same process, as in tests. It is safe for
// concurrent use; the zero value is ready.
type LocalBus struct {
	mu     sync.Mutex
	subs   map[int]func([]byte)
	next   int
	joined chan struct{} // receives once per subscription, when made
}

// joinedChan returns the channel that announces subscriptions.
func (b *LocalBus) joinedChan() chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.joined == nil {
		b.joined = make(chan struct{}, 64)
	}
	return b.joined
}

// Publish calls every subscriber with a copy of msg, synchronously.
func (b *LocalBus) Publish(_ context.Context, msg []byte) error {
	b.mu.Lock()
	fns := make([]func([]byte), 0, len(b.subs))
	for _, fn := range b.subs {
		fns = append(fns, fn)
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn(append([]byte(nil), msg...))
	}
	return nil
}

// Subscribe calls fn for every message until ctx is done.
func (b *LocalBus) Subscribe(ctx context.Context, fn func([]byte)) error {
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[int]func([]byte){}
	}
	id := b.next
	b.next++
	b.subs[id] = fn
	if b.joined == nil {
		b.joined = make(chan struct{}, 64)
	}
	select {
	case b.joined <- struct{}{}:
	default:
	}
	b.mu.Unlock()
	<-ctx.Done()
	b.mu.Lock()
	delete(b.subs, id)
	b.mu.Unlock()
	return nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
