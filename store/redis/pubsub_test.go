//go:build unix

package redis

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// deliveryTimeout bounds the wait for a published message or a
// (re)subscription; they come in milliseconds, the bound is for a loaded
// machine.
const deliveryTimeout = 15 * time.Second

// collect returns a subscription callback that sends every message to the
// returned channel.
func collect() (func([]byte), chan []byte) {
	ch := make(chan []byte, 100)
	return func(msg []byte) { ch <- msg }, ch
}

func TestPubSub(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	a := newStore(t, srv, Options{})
	b := newStore(t, srv, Options{})
	other := newStore(t, srv, Options{KeyPrefix: "other:"})

	fnB, gotB := collect()
	subB := b.Subscribe(ctx, fnB)
	fnA, gotA := collect()
	subA := a.Subscribe(ctx, fnA)
	fnOther, gotOther := collect()
	subOther := other.Subscribe(ctx, fnOther)
	for _, sub := range []*Subscription{subA, subB, subOther} {
		wait(t, sub.Ready(), deliveryTimeout, "subscription ready")
	}

	msgs := [][]byte{
		[]byte("purge GET https://example.com/"),
		{0, 0xff, '\r', '\n', '*'},
		{},
		bytes.Repeat([]byte("x"), 64<<10),
	}
	for _, msg := range msgs {
		if err := a.Publish(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range msgs {
		if got := wait(t, gotB, deliveryTimeout, "message on node B"); !bytes.Equal(got, want) {
			t.Errorf("node B got %d bytes %.20q, want %d bytes %.20q", len(got), got, len(want), want)
		}
		if got := wait(t, gotA, deliveryTimeout, "message on the publishing node"); !bytes.Equal(got, want) {
			t.Errorf("node A got %d bytes %.20q, want %d bytes %.20q", len(got), got, len(want), want)
		}
	}

	// Another KeyPrefix is another channel: a message there, and none
	// here, shows that nothing leaked across.
	if err := other.Publish(ctx, []byte("other")); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, gotOther, deliveryTimeout, "message on the other prefix"); string(got) != "other" {
		t.Errorf("other prefix got %q", got)
	}
	select {
	case m := <-gotOther:
		t.Errorf("other prefix also got %q", m)
	case m := <-gotB:
		t.Errorf("node B got %q, published on another prefix", m)
	default:
	}

	// After Close, fn is never called again.
	subB.Close()
	select {
	case <-subB.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if err := a.Publish(ctx, []byte("after close")); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, gotA, deliveryTimeout, "message after B closed"); string(got) != "after close" {
		t.Errorf("node A got %q", got)
	}
	select {
	case m := <-gotB:
		t.Errorf("closed subscription got %q", m)
	default:
	}
}

// TestSubscriptionEnds checks the three ways a subscription ends.
func TestSubscriptionEnds(t *testing.T) {
	srv := startServer(t)
	s := newStore(t, srv, Options{})

	ctx, cancel := context.WithCancel(t.Context())
	sub := s.Subscribe(ctx, func([]byte) {})
	wait(t, sub.Ready(), deliveryTimeout, "ready")
	cancel()
	wait(t, sub.Done(), deliveryTimeout, "end after the context is done")

	sub = s.Subscribe(t.Context(), func([]byte) {})
	wait(t, sub.Ready(), deliveryTimeout, "ready")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wait(t, sub.Done(), deliveryTimeout, "end after the store is closed")

	sub = s.Subscribe(t.Context(), func([]byte) {})
	wait(t, sub.Done(), deliveryTimeout, "end of a subscription made after Close")
	select {
	case <-sub.Ready():
		t.Error("a subscription made after Close became ready")
	default:
	}
	sub.Close() // harmless
}

// TestResubscribeAfterRestart restarts redis-server under a subscription:
// it must subscribe again by itself, report the gap, and deliver again.
func TestResubscribeAfterRestart(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	gaps := make(chan struct{}, 10)
	sub := newStore(t, srv, Options{OnResubscribe: func() { gaps <- struct{}{} }})
	pub := newStore(t, srv, Options{})
	fn, got := collect()
	s := sub.Subscribe(ctx, fn)
	wait(t, s.Ready(), deliveryTimeout, "first subscription")

	for round := range 2 {
		srv.restart()
		wait(t, gaps, deliveryTimeout, "OnResubscribe after a restart")
		msg := []byte{'r', byte('0' + round)}
		if err := pub.Publish(ctx, msg); err != nil {
			t.Fatalf("round %d: Publish after the restart: %v", round, err)
		}
		if m := wait(t, got, deliveryTimeout, "message after resubscription"); !bytes.Equal(m, msg) {
			t.Errorf("round %d: got %q, want %q", round, m, msg)
		}
	}
}

// TestSubscribeWhileDown subscribes while Redis is down: the subscription
// is established once it is back, and that is not reported as a gap.
func TestSubscribeWhileDown(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	gaps := make(chan struct{}, 10)
	s := newStore(t, srv, Options{OnResubscribe: func() { gaps <- struct{}{} }})
	srv.stop()
	fn, got := collect()
	sub := s.Subscribe(ctx, fn)
	select {
	case <-sub.Ready():
		t.Fatal("ready while the server is down")
	default:
	}
	srv.start()
	wait(t, sub.Ready(), deliveryTimeout, "subscription once the server is back")
	if err := s.Publish(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if m := wait(t, got, deliveryTimeout, "message"); string(m) != "hello" {
		t.Errorf("got %q", m)
	}
	select {
	case <-gaps:
		t.Error("OnResubscribe called for the first subscription")
	default:
	}
}
