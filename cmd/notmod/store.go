package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/disk"
	"github.com/notmod/notmod/store/memory"
	"github.com/notmod/notmod/store/redis"
	"github.com/notmod/notmod/store/tier"
)

// leaseTTL bounds how long one node may hold the fleet lease on a URL
// before the others stop waiting for it.
const leaseTTL = 10 * time.Second

// storage is the store "notmod serve" runs on, as chosen by -store.
type storage struct {
	store  store.Store
	front  *memory.Store // the memory store, or the memory tier in front
	kind   string        // "memory", "disk" or "redis"
	lease  func(ctx context.Context, key string) (bool, func())
	run    func(ctx context.Context) // background work: the purge bus
	close  func() error
	status func() map[string]any
}

// openStorage builds the store named by spec: "memory", "disk:PATH" or a
// redis:// (rediss://, unix://) URL. Disk and Redis get a memory tier of
// front; Redis also gets the purge bus and the fleet lease.
func openStorage(ctx context.Context, spec string, front *memory.Store, log *slog.Logger, backState func(error)) (*storage, error) {
	st := &storage{store: front, front: front, kind: "memory", run: func(context.Context) {}, close: func() error { return nil }}
	st.status = func() map[string]any {
		return map[string]any{"store": spec, "memory_objects": front.Len(), "memory_bytes": front.Bytes(), "memory_max_bytes": front.MaxBytes()}
	}
	switch {
	case spec == "memory":
		return st, nil
	case strings.HasPrefix(spec, "disk:"):
		path := strings.TrimPrefix(spec, "disk:")
		if path == "" {
			return nil, fmt.Errorf("-store disk:PATH needs a path")
		}
		d, err := disk.New(disk.Options{Path: path, Logger: log})
		if err != nil {
			return nil, err
		}
		t, err := tier.New(tier.Options{Front: front, Back: d, FrontTTL: time.Hour, Logger: log, OnBackState: backState})
		if err != nil {
			d.Close()
			return nil, err
		}
		st.store, st.kind, st.close = t, "disk", d.Close
		base := st.status
		st.status = func() map[string]any {
			doc := base()
			s := d.Stats()
			doc["disk_objects"], doc["disk_bytes"], doc["disk_corrupt_dropped"] = s.Entries, s.Bytes, s.Corrupt
			return doc
		}
		return st, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"), strings.HasPrefix(spec, "unix://"):
		var t *tier.Store
		r, err := redis.New(ctx, redis.Options{
			URL:           spec,
			Logger:        log,
			OnStateChange: func(_ redis.State, err error) { backState(err) },
			OnResubscribe: func() {
				if t != nil {
					_ = t.DropFront(context.Background())
				}
			},
		})
		if err != nil {
			return nil, err
		}
		t, err = tier.New(tier.Options{Front: front, Back: r, Bus: redisBus{r}, Logger: log, OnBackState: backState})
		if err != nil {
			r.Close()
			return nil, err
		}
		st.store, st.kind, st.close = t, "redis", r.Close
		st.run = func(ctx context.Context) { _ = t.Run(ctx) }
		st.lease = func(ctx context.Context, key string) (bool, func()) {
			ok, release, err := r.TryLease(ctx, key, leaseTTL)
			if err != nil {
				return true, func() {} // Redis unreachable: do not hold requests back
			}
			return ok, release
		}
		base := st.status
		st.status = func() map[string]any {
			doc := base()
			doc["redis"] = r.State().String()
			return doc
		}
		return st, nil
	}
	return nil, fmt.Errorf("-store %q: want memory, disk:PATH or a redis:// URL", spec)
}

// redisBus carries the tier's announcements over Redis pub/sub.
type redisBus struct{ r *redis.Store }

func (b redisBus) Publish(ctx context.Context, msg []byte) error { return b.r.Publish(ctx, msg) }

func (b redisBus) Subscribe(ctx context.Context, fn func([]byte)) error {
	sub := b.r.Subscribe(ctx, fn)
	<-sub.Done()
	return nil
}
