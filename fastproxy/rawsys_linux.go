//go:build linux

package fastproxy

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The event loops' system calls, on non-blocking descriptors only, are
// made without telling the scheduler (RawSyscall), as the runtime's own
// poller makes its epoll calls: they never wait, so there is nothing to
// hand the P over for, and the bookkeeping of a blocking call
// (entersyscall, exitsyscall: about 2 % of a loaded server's CPU) is
// saved. A write to a loopback socket can run for tens of microseconds
// (it runs the receiver's TCP processing inline); made the usual way, the
// runtime's monitor may take the P away meanwhile, and the loop then
// waits for it on the global run queue.

func rawRead(fd int, p []byte) (int, error) { return rawRW(unix.SYS_READ, fd, p) }

func rawWrite(fd int, p []byte) (int, error) { return rawRW(unix.SYS_WRITE, fd, p) }

// rawRW is read(2) or write(2), by trap.
func rawRW(trap uintptr, fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawWritev writes bufs with one writev, using iov (reused) for the
// vector; at most 1024 buffers (IOV_MAX) are written.
func rawWritev(fd int, bufs [][]byte, iov *[]unix.Iovec) (int, error) {
	if len(bufs) == 1 {
		return rawWrite(fd, bufs[0])
	}
	v := (*iov)[:0]
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if len(v) == 1024 {
			break
		}
		e := unix.Iovec{Base: &b[0]}
		e.SetLen(len(b))
		v = append(v, e)
	}
	*iov = v
	if len(v) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)))
	clear(v) // keeps no buffer alive
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawEpollPoll returns the events ready now, without waiting
// (epoll_pwait with a zero timeout and no signal mask).
func rawEpollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
