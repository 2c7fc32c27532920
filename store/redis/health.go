package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// State is whether Redis answered the store's last call.
type State int32

const (
	// StateUp means Redis answered the last call, with a value or with
	// an error reply of its own.
	StateUp State = iota + 1
	// StateDown means the last call failed on the network: Redis could
	// not be reached or did not answer within the timeouts.
	StateDown
)

// String returns "up" or "down".
func (s State) String() string {
	switch s {
	case StateUp:
		return "up"
	case StateDown:
		return "down"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// probeInterval is how often a store whose state is [StateDown] pings
// Redis, so that it sees the server come back without traffic.
const probeInterval = 500 * time.Millisecond

// health holds a store's [State] and the changes not yet reported.
type health struct {
	state    atomic.Int32
	onChange func(State, error)

	mu      sync.Mutex
	pending []stateChange
	// wake tells the monitor goroutine that pending has grown.
	wake chan struct{}
}

type stateChange struct {
	state State
	err   error
}

func (h *health) init(onChange func(State, error)) {
	h.state.Store(int32(StateUp))
	h.onChange = onChange
	h.wake = make(chan struct{}, 1)
}

// set records that the state is st, queueing a report if it changed.
func (h *health) set(st State, err error) {
	if State(h.state.Load()) == st {
		return
	}
	h.mu.Lock()
	if State(h.state.Load()) == st {
		h.mu.Unlock()
		return
	}
	h.state.Store(int32(st))
	h.pending = append(h.pending, stateChange{st, err})
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// take returns and clears the pending changes.
func (h *health) take() []stateChange {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.pending
	h.pending = nil
	return p
}

// State returns [StateUp] if Redis answered the store's last call (or the
// ping of New, before any call), [StateDown] if that call failed on the
// network. Calls whose context was done, and calls after Close, do not
// count.
func (s *Store) State() State {
	return State(s.health.state.Load())
}

// observe updates the store's state from the outcome of a call made with
// ctx.
func (s *Store) observe(ctx context.Context, err error) {
	var reply goredis.Error
	switch {
	case err == nil, errors.As(err, &reply):
		// goredis.Nil is a reply too.
		s.health.set(StateUp, nil)
	case ctx.Err() != nil, pastDeadline(ctx), s.ctx.Err() != nil, errors.Is(err, goredis.ErrClosed):
		// The caller gave up (its deadline bounds the socket's, so the
		// error may come a moment before ctx.Err says so) or the store
		// is closing: nothing is known about the server.
	default:
		s.health.set(StateDown, err)
	}
}

// pastDeadline reports whether ctx has a deadline that has passed.
func pastDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// monitor reports state changes, in order, and pings Redis while the
// state is [StateDown]. It runs until Close.
func (s *Store) monitor() {
	timer := time.NewTimer(probeInterval)
	timer.Stop()
	armed := false
	for {
		select {
		case <-s.ctx.Done():
			timer.Stop()
			return
		case <-s.health.wake:
		case <-timer.C:
			armed = false
			ctx, cancel := context.WithTimeout(s.ctx, s.callTimeout)
			s.observe(ctx, s.ping(ctx))
			cancel()
		}
		for _, c := range s.health.take() {
			if c.state == StateDown {
				s.log.Warn("redis: unreachable; calls fail until it answers again", "err", c.err)
			} else {
				s.log.Info("redis: answering again")
			}
			if s.health.onChange != nil {
				s.health.onChange(c.state, c.err)
			}
		}
		if s.State() == StateDown && !armed {
			timer.Reset(probeInterval)
			armed = true
		}
	}
}

// Ping checks that Redis answers: every primary of a Cluster, the server
// otherwise. It returns nil or the first error, wrapped, within ctx and
// the timeouts. The outcome updates [Store.State].
func (s *Store) Ping(ctx context.Context) error {
	err := s.ping(ctx)
	s.observe(ctx, err)
	if err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

func (s *Store) ping(ctx context.Context) error {
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
			return c.Ping(ctx).Err()
		})
	}
	return s.c.Ping(ctx).Err()
}
