// Purging: removing or staling stored responses on an operator's request,
// by URL, by URL prefix and by surrogate key.

package httpcache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/notmod/notmod/internal/httplex"
	"github.com/notmod/notmod/store"
)

// tagPrefix starts the keys of the surrogate-key index: "t TAG\x00PRIMARY".
const tagPrefix = "t "

// maxTags bounds how many surrogate keys of one response are indexed.
const maxTags = 64

// ErrNoListing is returned for a purge by prefix or surrogate key when the
// store cannot list its keys (it does not implement store.Ranger).
var ErrNoListing = errors.New("httpcache: store cannot list keys")

// PurgeMode says what a purge does to the responses it selects.
type PurgeMode uint8

const (
	// HardPurge deletes the stored responses.
	HardPurge PurgeMode = iota
	// SoftPurge marks them stale: the next request revalidates (or, where
	// stale-while-revalidate allows, is served stale while it does).
	SoftPurge
)

// surrogateKeys returns the surrogate keys of a response: the
// space-separated Surrogate-Key field and the comma-separated Cache-Tag
// field, matched later exactly, never as patterns.
func surrogateKeys(h http.Header) []string {
	var tags []string
	add := func(t string) {
		if t != "" && len(tags) < maxTags && !slices.Contains(tags, t) && !strings.ContainsAny(t, "\x00\r\n") {
			tags = append(tags, t)
		}
	}
	for _, line := range h["Surrogate-Key"] {
		for _, t := range strings.Fields(line) {
			add(t)
		}
	}
	for t := range httplex.ElementsOf(h["Cache-Tag"]) {
		add(t)
	}
	return tags
}

// indexTags records the surrogate keys of a response stored under primary.
func (c *Cache) indexTags(ctx context.Context, h http.Header, primary string, ttl time.Duration) {
	for _, t := range surrogateKeys(h) {
		if err := c.opts.Store.Set(ctx, tagPrefix+t+"\x00"+primary, []byte{1}, ttl); err != nil {
			c.storeError("set", err)
			return
		}
	}
}

// PurgeURL purges the stored responses of the absolute URL u, every
// variant of it, as clients reach the cache (scheme, Host and path).
func (c *Cache) PurgeURL(ctx context.Context, u *url.URL, mode PurgeMode) (int, error) {
	return c.purgePrimary(ctx, string(appendURLKey(nil, u, u.RequestURI())), mode)
}

// PurgePrefix purges the stored responses of every URL of u's scheme and
// host whose request-target starts with prefix. It needs a store that can
// list keys.
func (c *Cache) PurgePrefix(ctx context.Context, u *url.URL, prefix string, mode PurgeMode) (int, error) {
	r, ok := c.opts.Store.(store.Ranger)
	if !ok {
		return 0, ErrNoListing
	}
	var primaries []string
	err := r.Keys(ctx, string(appendURLKey(nil, u, prefix)), func(key string) bool {
		if !strings.Contains(key, "\x00") { // variants go with their record
			primaries = append(primaries, key)
		}
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("httpcache: purge prefix: %w", err)
	}
	return c.purgeAll(ctx, primaries, mode)
}

// PurgeTag purges the stored responses that carried the surrogate key tag
// in Surrogate-Key or Cache-Tag, matched exactly. It needs a store that can
// list keys.
func (c *Cache) PurgeTag(ctx context.Context, tag string, mode PurgeMode) (int, error) {
	r, ok := c.opts.Store.(store.Ranger)
	if !ok {
		return 0, ErrNoListing
	}
	prefix := tagPrefix + tag + "\x00"
	var index, primaries []string
	err := r.Keys(ctx, prefix, func(key string) bool {
		index = append(index, key)
		primaries = append(primaries, strings.TrimPrefix(key, prefix))
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("httpcache: purge tag: %w", err)
	}
	n, err := c.purgeAll(ctx, primaries, mode)
	if mode == HardPurge {
		for _, k := range index {
			if derr := c.opts.Store.Delete(ctx, k); derr != nil && err == nil {
				err = derr
			}
		}
	}
	return n, err
}

func (c *Cache) purgeAll(ctx context.Context, primaries []string, mode PurgeMode) (int, error) {
	total := 0
	for _, p := range primaries {
		n, err := c.purgePrimary(ctx, p, mode)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// purgePrimary purges what is stored under a primary key and reports how
// many stored responses it removed or staled.
func (c *Cache) purgePrimary(ctx context.Context, primary string, mode PurgeMode) (int, error) {
	raw, err := c.opts.Store.Get(ctx, primary)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	keys := []string{primary}
	if len(raw) > 0 && raw[0] == kindVariant {
		rec, err := decodeVariants(raw)
		if err != nil {
			return 0, c.opts.Store.Delete(ctx, primary)
		}
		keys = keys[:0]
		for _, v := range rec.variants {
			keys = append(keys, v.key)
		}
	}
	if mode == HardPurge {
		n := len(keys)
		if err := c.removeStored(ctx, primary, raw); err != nil {
			return 0, err
		}
		c.observe(Event{Invalidation: true})
		return n, nil
	}
	n := 0
	for _, k := range keys {
		v := raw // what was read under the primary key
		if k != primary {
			v, err = c.opts.Store.Get(ctx, k)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return n, err
			}
		}
		var e entry
		if decodeEntry(v, &e) != nil {
			continue
		}
		// Stale at once: its age now exceeds its (zero) lifetime.
		e.lifetime = 0
		if err := c.setEntry(ctx, k, &e, c.opts.KeepStale, holding(&e)); errors.Is(err, ErrContentLost) {
			c.storeError("content", err) // dropped, as a lookup drops it
			continue
		} else if err != nil {
			return n, err
		}
		n++
	}
	c.observe(Event{Invalidation: true})
	return n, nil
}
