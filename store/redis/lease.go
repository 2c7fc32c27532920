package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// releaseScript deletes a lease only if it still holds the token of the
// holder releasing it, so that a holder whose lease has expired and been
// taken by another node does not release the other node's lease.
const releaseScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`

// TryLease tries to take the lease called name for ttl, so that one node
// of a fleet at a time does a job such as revalidating a key: the node
// that gets ok == true does it, the others do not (they wait for its
// result, or serve what they have). It does not wait: it returns ok ==
// false at once if another holder has the lease.
//
// The lease is a Redis key (KeyPrefix + "l:" + name) set with SET NX PX to
// a random token; it ends when ttl passes (rounded up to a millisecond) or
// when release is called, whichever comes first. release deletes the key
// only if it still holds this holder's token (a compare-and-delete Lua
// script), so a holder that outlived its ttl never ends another's lease.
// release may be called more than once and from any goroutine; it is
// bounded by the store's timeouts, and a failure is only logged, since the
// lease expires anyway. ttl should cover the job with a margin: a job
// that outlasts it may run twice.
//
// A ttl <= 0 is an error. When Redis cannot be asked, TryLease returns
// ok == false and the error; whether to do the job anyway (no other node
// can share its result then either) is the caller's choice. release is
// never nil: it does nothing when ok is false.
func (s *Store) TryLease(ctx context.Context, name string, ttl time.Duration) (ok bool, release func(), err error) {
	if ttl <= 0 {
		return false, func() {}, fmt.Errorf("redis: lease: ttl %v is not positive", ttl)
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // never fails
	token := hex.EncodeToString(raw[:])
	key := s.lease + name
	err = s.c.Do(ctx, "set", key, token, "nx", "px", millis(ttl)).Err()
	s.observe(ctx, err)
	switch {
	case errors.Is(err, goredis.Nil):
		return false, func() {}, nil
	case err != nil:
		return false, func() {}, fmt.Errorf("redis: lease: %w", err)
	}
	var once sync.Once
	return true, func() { once.Do(func() { s.release(key, token) }) }, nil
}

// release ends the lease under key if it still holds token.
func (s *Store) release(key, token string) {
	ctx, cancel := context.WithTimeout(s.ctx, s.callTimeout)
	defer cancel()
	err := s.unlock.Run(ctx, s.c, []string{key}, token).Err()
	s.observe(ctx, err)
	if err != nil {
		s.log.Warn("redis: lease release failed; the lease ends at its ttl", "err", err)
	}
}
