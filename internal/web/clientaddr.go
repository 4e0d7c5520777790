package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the addresses of the reverse proxies whose
// X-Forwarded-For the shop believes (--trusted-proxy). Empty: none, and
// forwarded headers are ignored.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads a comma-separated list of CIDR prefixes
// ("127.0.0.1/32,10.0.0.0/8"); a bare address stands for itself alone.
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var t TrustedProxies
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not a CIDR prefix such as 127.0.0.1/32 or 10.0.0.0/8", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		t = append(t, p.Masked())
	}
	return t, nil
}

func (t TrustedProxies) String() string {
	s := make([]string, len(t))
	for i, p := range t {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (t TrustedProxies) contains(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// resolveClient is the client address of a request that arrived on a
// connection from peer with the X-Forwarded-For header lines xff. Only a
// trusted proxy's headers count: from anyone else, peer is the client. A
// trusted proxy appends the address it received the request from to what
// the client sent, so the list is read from the right, past trusted
// proxies, and the first entry that is not a trusted proxy is the client;
// entries to its left were written by the client and are never read. An
// entry that is not an address ends the walk at the nearest trusted hop.
//
// Forwarded (RFC 7239) and X-Real-IP are not read: a proxy that writes one
// forwarded header passes the others on from the client untouched, so
// reading them would let the client choose its own address.
func resolveClient(peer netip.Addr, xff []string, trusted TrustedProxies) netip.Addr {
	if !peer.IsValid() || !trusted.contains(peer) {
		return peer
	}
	client := peer
	for i := len(xff) - 1; i >= 0; i-- {
		rest := xff[i]
		for {
			entry := rest
			cut := strings.LastIndexByte(rest, ',')
			if cut >= 0 {
				entry, rest = rest[cut+1:], rest[:cut]
			}
			a, ok := forwardedAddr(entry)
			if !ok {
				return client
			}
			if !trusted.contains(a) {
				return a
			}
			client = a
			if cut < 0 {
				break
			}
		}
	}
	return client
}

// forwardedAddr reads one X-Forwarded-For entry: an address, possibly with
// a port or in brackets ("192.0.2.1", "[2001:db8::1]:4711").
func forwardedAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 64 {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() && a.Zone() == "" {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// peerAddr is the address of the connection's other end, from
// http.Request.RemoteAddr; invalid when RemoteAddr is not host:port of an
// IP address.
func peerAddr(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

type clientCtxKey struct{}

// withClient resolves each request's client address once (resolveClient)
// and keeps it in the request's context, where ClientAddr finds it.
func withClient(trusted TrustedProxies, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := resolveClient(peerAddr(r.RemoteAddr), r.Header.Values("X-Forwarded-For"), trusted)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientCtxKey{}, a)))
	})
}

// ClientAddr is the request's client address: the one every limit, stored
// message and log line uses. It is the connection's address unless that
// is a trusted proxy (see resolveClient); invalid when the connection has
// no IP address.
func ClientAddr(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(clientCtxKey{}).(netip.Addr); ok {
		return a
	}
	return peerAddr(r.RemoteAddr)
}

// clientString is ClientAddr as text, for logs and stored messages; a
// connection without an IP address is shown by its (bounded) RemoteAddr.
func clientString(r *http.Request) string {
	if a := ClientAddr(r); a.IsValid() {
		return a.String()
	}
	return Clip(r.RemoteAddr)
}

// clientKey is the identity a limit applies to: the client address, an
// IPv6 address by its /64, which one subscriber usually holds whole.
func clientKey(r *http.Request) string {
	a := ClientAddr(r)
	if !a.IsValid() {
		return Clip(r.RemoteAddr)
	}
	if a.Is6() && !a.IsLoopback() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
