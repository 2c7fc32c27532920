// Package redis is the fleet [store.Store]: a backend on Redis or Valkey,
// built on github.com/redis/go-redis/v9 through its UniversalClient, so the
// same code talks to a single server, to a Sentinel-managed primary and to
// a Redis Cluster. Several notmod nodes pointed at one Redis share what
// they store.
//
// # Keys and values
//
// A key k of the store is kept in Redis as [Options.KeyPrefix] + "d:" + k,
// its value as a plain Redis string, byte for byte (any byte, any length
// up to [Options.MaxEntryBytes]). A Set with a ttl writes SET ... PX with
// the ttl rounded up to a whole millisecond; a Set with ttl <= 0 writes a
// plain SET, which also removes any expiry the key had. Expiry is Redis's
// own, on the server's clock. [Store.Keys] walks the keys with SCAN and a
// MATCH pattern in which the glob characters of the prefix are escaped,
// on every primary in turn when the client is a Cluster client.
//
// Besides the entries, the key space holds the leases of [Store.TryLease]
// under KeyPrefix + "l:", and the purge channel of [Store.Publish] and
// [Store.Subscribe] is named KeyPrefix + "purge" (pub/sub channels are not
// per database, so the prefix is what keeps two deployments apart).
//
// # Failures
//
// Every call is bounded: one attempt, no retries, a dial bounded by
// [Options.DialTimeout] (250 ms by default) and the exchange by
// [Options.WriteTimeout] and [Options.ReadTimeout] (200 ms each), and by
// the context's deadline when it is earlier. A Redis that is down or slow
// therefore makes calls fail quickly with an error, never hang; the
// caller (the cache) treats such an error as a miss and passes the
// request on. When many dials fail in a row, the connection pool stops
// dialing and fails calls at once, trying again once a second, so a store
// sees a returning server within about a second.
//
// go-redis logs some connection failures (a failed dial, for one) through
// its own package-wide logger, not through [Options.Logger]; a program
// routes or silences those with go-redis's SetLogger.
//
// The store watches the outcome of its calls: a network failure turns its
// [State] to [StateDown], a reply from the server turns it back to
// [StateUp]. While down it pings the server in the background, so it
// notices the server's return even without traffic. Each change is logged
// and reported to [Options.OnStateChange], for metrics.
//
// # For a fleet
//
// [Store.Publish] and [Store.Subscribe] carry purge messages between nodes
// over Redis pub/sub; a subscription reconnects and resubscribes by itself
// after a failure and reports each such gap to [Options.OnResubscribe],
// since messages published during the gap are lost. [Store.TryLease] takes
// a short lease on a name, so that one node at a time revalidates a key.
// [Store.Ping] checks that the server answers.
//
// The store passes the conformance suite in package storetest, against a
// real redis-server.
package redis
