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

// FreeAddrBeside returns another free port on the loopback address of addr
// (which FreeAddr returned), never addr's own port, which its server may
// take again: a second server there shares the first one's cookies, which
// are per host name and ignore the port.
func FreeAddrBeside(t testing.TB, addr string) string {
	t.Helper()
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		next := ln.Addr().String()
		ln.Close()
		if next != addr {
			return next
		}
	}
	t.Fatalf("no free port beside %s", addr)
	return ""
}
