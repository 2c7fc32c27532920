//go:build !linux

package fastproxy

import "net"

// loops is the state of event loops, which run on Linux only.
type loops struct{}

// serveLoops reports false: fasthttp serves every connection.
func (s *Server) serveLoops(net.Listener, int) (bool, error) { return false, nil }

func (s *Server) stopLoops(<-chan struct{}) error { return nil }
