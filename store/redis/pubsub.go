package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Timing of a subscription's connection checks and retries.
const (
	// idleCheck is how long a subscription waits without a message
	// before it pings Redis to check that its connection still works.
	idleCheck = 5 * time.Second
	// minPongWait is the least it then waits for the answer before it
	// drops the connection and subscribes again on a new one.
	minPongWait = time.Second
	// minResubscribe and maxResubscribe bound the wait between two
	// attempts to subscribe while Redis is unreachable; the wait doubles
	// with each failure.
	minResubscribe = 50 * time.Millisecond
	maxResubscribe = 2 * time.Second
)

// Publish sends msg to every node subscribed with [Store.Subscribe] to
// this store's purge channel (KeyPrefix + "purge"), including this one if
// it is subscribed. Delivery is at most once: a node that is disconnected
// when msg is published never gets it, and learns of the gap through
// [Options.OnResubscribe]. msg is only read during the call.
func (s *Store) Publish(ctx context.Context, msg []byte) error {
	err := s.c.Publish(ctx, s.channel, msg).Err()
	s.observe(ctx, err)
	if err != nil {
		return fmt.Errorf("redis: publish: %w", err)
	}
	return nil
}

// Subscription is a running subscription to the purge channel, made by
// [Store.Subscribe]. Its methods are safe for concurrent use.
type Subscription struct {
	ready  chan struct{}
	done   chan struct{}
	cancel context.CancelFunc
}

// Ready is closed once Redis has confirmed the subscription for the first
// time: messages published after that reach fn (while the connection
// lasts). It stays open if the subscription ends before that.
func (sub *Subscription) Ready() <-chan struct{} { return sub.ready }

// Done is closed when the subscription has ended, because the context
// given to Subscribe is done, Close was called, or the store was closed;
// fn is not called after that.
func (sub *Subscription) Done() <-chan struct{} { return sub.done }

// Close ends the subscription and waits until fn has returned for the
// last time. It must not be called from fn.
func (sub *Subscription) Close() {
	sub.cancel()
	<-sub.done
}

// Subscribe subscribes to this store's purge channel and calls fn with
// every message published on it by [Store.Publish], from any node, until
// ctx is done, the Subscription is closed or the store is closed. It
// returns at once; the subscription runs on a goroutine of its own, which
// calls fn one message at a time (fn should be quick: messages wait while
// it runs). fn owns the slice it is given.
//
// The subscription survives failures: when its connection fails, or does
// not answer a ping after idle time, it subscribes again on a new
// connection, waiting between attempts (from 50 ms, doubling up to 2 s)
// while Redis is unreachable; that includes a Redis that is down when
// Subscribe is called. Messages published while it is not subscribed are
// lost, so each time it is established again after a loss it calls
// [Options.OnResubscribe] and logs the gap. [Subscription.Ready] tells
// when it is first established.
func (s *Store) Subscribe(ctx context.Context, fn func(msg []byte)) *Subscription {
	ctx, cancel := context.WithCancel(ctx)
	sub := &Subscription{ready: make(chan struct{}), done: make(chan struct{}), cancel: cancel}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		close(sub.done)
		return sub
	}
	s.wg.Add(1)
	s.mu.Unlock()
	stop := context.AfterFunc(s.ctx, cancel)
	go func() {
		defer s.wg.Done()
		defer close(sub.done)
		defer stop()
		defer cancel()
		s.subscribe(ctx, sub, fn)
	}()
	return sub
}

// subscribe keeps a subscription alive until ctx is done.
func (s *Store) subscribe(ctx context.Context, sub *Subscription, fn func([]byte)) {
	wait := minResubscribe
	subscribed := false // established at least once
	failing := false    // the last attempt failed too
	established := func() {
		if !subscribed {
			subscribed = true
			close(sub.ready)
			return
		}
		s.log.Warn("redis: purge channel subscribed again; messages published during the gap were lost", "channel", s.channel)
		if s.onResubscribe != nil {
			s.onResubscribe()
		}
	}
	for {
		ps := s.c.Subscribe(ctx, s.channel)
		stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
		ok, err := s.receive(ctx, ps, fn, established)
		stop()
		_ = ps.Close()
		if ctx.Err() != nil {
			return
		}
		s.observe(ctx, err)
		if ok {
			wait = minResubscribe
			failing = false
		}
		if !failing {
			s.log.Warn("redis: purge subscription failed; subscribing again", "channel", s.channel, "err", err)
			failing = true
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, maxResubscribe)
	}
}

// receive reads from ps until its connection fails, calling established
// each time Redis confirms the subscription; ok reports whether it did at
// least once.
func (s *Store) receive(ctx context.Context, ps *goredis.PubSub, fn func([]byte), established func()) (ok bool, err error) {
	pongWait := max(minPongWait, s.callTimeout)
	pinged := false
	for {
		timeout := idleCheck
		if pinged {
			timeout = pongWait
		}
		m, err := ps.ReceiveTimeout(ctx, timeout)
		if err != nil {
			var ne net.Error
			switch {
			case ctx.Err() != nil:
				return ok, ctx.Err()
			case !errors.As(err, &ne) || !ne.Timeout():
				return ok, err
			case pinged:
				return ok, fmt.Errorf("no answer to a ping within %v", pongWait)
			}
			if err := ps.Ping(ctx); err != nil {
				return ok, err
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := m.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" && m.Channel == s.channel {
				ok = true
				s.observe(ctx, nil)
				established()
			}
		case *goredis.Message:
			fn([]byte(m.Payload))
		}
	}
}
