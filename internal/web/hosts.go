package web

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// HostPolicy is the Host header values a server answers: loopback names
// and addresses (localhost, 127.0.0.0/8, ::1), the names it is given (the
// public URL's host, --allowed-host) and, when AnyAddress is set, any IP
// address. A browser under DNS rebinding sends the attacker's name as
// Host, so refusing names the server does not know keeps another site's
// pages from reaching it through the browser. Ports are not compared: the
// listener decides which port is served.
type HostPolicy struct {
	names map[string]bool
	// AnyAddress accepts every IP-address Host (no name): a browser that
	// sends one was pointed at the address itself, which DNS rebinding
	// cannot do.
	AnyAddress bool
}

// NewHostPolicy accepts loopback and each of hosts: a name or address,
// with or without a port ("shop.example.com", "192.0.2.1:8000",
// "[2001:db8::1]").
func NewHostPolicy(hosts ...string) (*HostPolicy, error) {
	p := &HostPolicy{names: map[string]bool{}}
	for _, h := range hosts {
		if err := p.Add(h); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Add accepts one more host (as in NewHostPolicy).
func (p *HostPolicy) Add(host string) error {
	h := strings.TrimSpace(host)
	if h == "" || len(h) > 255 || strings.ContainsAny(h, "/?#@ \t") {
		return fmt.Errorf("%q is not a host name or address such as shop.example.com or 192.0.2.1", host)
	}
	name := hostName(h)
	if a, err := netip.ParseAddr(name); err == nil {
		name = a.Unmap().String()
	}
	p.names[name] = true
	return nil
}

// Hosts lists the accepted names and addresses besides loopback.
func (p *HostPolicy) Hosts() []string {
	var out []string
	for h := range p.names {
		out = append(out, h)
	}
	return out
}

// hostName is a Host value without its port and brackets, in lower case,
// without a final dot.
func hostName(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// Allows reports whether the server answers a request with this Host.
func (p *HostPolicy) Allows(host string) bool {
	h := hostName(host)
	if h == "" {
		return false
	}
	if h == "localhost" || p.names[h] {
		return true
	}
	a, err := netip.ParseAddr(h)
	if err != nil || a.Zone() != "" {
		return false
	}
	return a.Unmap().IsLoopback() || p.AnyAddress || p.names[a.Unmap().String()]
}

// Handler serves h to requests whose Host p allows and answers others 421
// Misdirected Request in plain text, with nothing done.
func (p *HostPolicy) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.Allows(r.Host) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusMisdirectedRequest)
		io.WriteString(w, "421 misdirected request: this server does not answer to that Host name\n")
	})
}
