package main

import (
	"net/url"
	"slices"
	"strings"

	"alishop/internal/web"
)

// proxyFlags say which reverse proxies name the client and which Host
// names are answered (docs/SECURITY.md).
type proxyFlags struct {
	trusted      web.TrustedProxies
	allowedHosts hostList
}

func (f *proxyFlags) register(fs *cmdFlags) {
	fs.Func("trusted-proxy", "reverse proxies (`CIDR[,CIDR…]`, e.g. 127.0.0.1/32 for a proxy on this host) whose X-Forwarded-For names the client; default none: forwarded headers are ignored", func(v string) error {
		t, err := web.ParseTrustedProxies(v)
		f.trusted = append(f.trusted, t...)
		return err
	})
	fs.Var(&f.allowedHosts, "allowed-host", "a `HOST` name the shop answers besides the --public-url host and loopback (repeatable, or a comma-separated list); other names get 421")
	fs.lists["allowed-host"] = true
}

// hostList collects --allowed-host values: repeated flags or
// comma-separated lists.
type hostList []string

func (h *hostList) String() string { return strings.Join(*h, ",") }

func (h *hostList) Set(v string) error {
	for x := range strings.SplitSeq(v, ",") {
		if x = strings.TrimSpace(x); x == "" {
			continue
		}
		if _, err := web.NewHostPolicy(x); err != nil {
			return err
		}
		*h = append(*h, x)
	}
	return nil
}

// hostPolicy is the Host names a server answers: loopback, the hosts of
// the URLs it is reached at, and the allowed ones.
func hostPolicy(urls []string, allowed []string) (*web.HostPolicy, error) {
	hosts := slices.Clone(allowed)
	for _, u := range urls {
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			hosts = append(hosts, pu.Host)
		}
	}
	return web.NewHostPolicy(hosts...)
}
