// Package storebench compares the store backends in one run: a hit read
// from store/memory, store/disk and store/redis (against a redis-server it
// starts on a unix socket), for 1 KiB and 100 KiB values.
//
//	go test -run '^$' -bench . -benchmem ./bench/storebench
package storebench
