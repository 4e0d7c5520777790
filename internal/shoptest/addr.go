package shoptest

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
)

// FreeAddr returns host:port for a server a test starts later (and may
// restart on the same address): a free port on a loopback address of its
// own, 127.a.b.c but never 127.0.0.1. Every other server and client of a
// test run uses 127.0.0.1, so no other process takes the port between this
// check and the server's start, as one can on 127.0.0.1 when tests run
// side by side; the test would then talk to that process instead.
func FreeAddr(t testing.TB) string {
	t.Helper()
	var err error
	for range 20 {
		ip := netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(254)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
		var ln net.Listener
		if ln, err = net.Listen("tcp", netip.AddrPortFrom(ip, 0).String()); err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	t.Fatalf("no free loopback address: %v", err)
	return ""
}
