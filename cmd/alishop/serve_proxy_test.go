package main

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// --trusted-proxy and --allowed-host, from flags and the environment, for
// serve and the stand-alone sandbox.
func TestProxyFlags(t *testing.T) {
	t.Parallel()
	e := func(vars map[string]string) *env {
		var out bytes.Buffer
		return &env{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &out}
	}
	c, err := parseServeFlags([]string{"--trusted-proxy", "127.0.0.1/32, 10.0.0.0/8", "--allowed-host", "a.example", "--allowed-host", "b.example,c.example:8443"}, e(nil))
	if err != nil || c.proxy.trusted.String() != "127.0.0.1/32,10.0.0.0/8" || !slices.Equal(c.proxy.allowedHosts, hostList{"a.example", "b.example", "c.example:8443"}) {
		t.Fatalf("flags: %v %v, %v", c.proxy.trusted, c.proxy.allowedHosts, err)
	}
	c, err = parseServeFlags(nil, e(map[string]string{"ALISHOP_TRUSTED_PROXY": "127.0.0.1/32", "ALISHOP_ALLOWED_HOST": "x.example, y.example"}))
	if err != nil || c.proxy.trusted.String() != "127.0.0.1/32" || !slices.Equal(c.proxy.allowedHosts, hostList{"x.example", "y.example"}) {
		t.Fatalf("environment: %v %v, %v", c.proxy.trusted, c.proxy.allowedHosts, err)
	}
	if c, _ := parseServeFlags(nil, e(nil)); len(c.proxy.trusted) != 0 {
		t.Fatalf("trusted proxies by default: %v", c.proxy.trusted)
	}
	for _, bad := range [][]string{{"--trusted-proxy", "proxy.example"}, {"--trusted-proxy", "10.0.0.0/40"}, {"--allowed-host", "https://shop.example/"}} {
		_, err := parseServeFlags(bad, e(nil))
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), strings.TrimPrefix(bad[0], "--")) {
			t.Errorf("%v: %v, want a usage error naming the flag", bad, err)
		}
	}

	for _, c := range []struct {
		args         []string
		vars         map[string]string
		allow, refus []string
	}{
		{nil, nil, []string{"127.0.0.1:9000", "localhost:9000", "[::1]:9000"}, []string{"rebind.attacker.example:9000", "192.0.2.1:9000"}},
		{[]string{"--addr", "192.0.2.1:9000", "--public-url", "http://sandbox.test:9000/"}, map[string]string{"ALISHOP_SANDBOX_ALLOWED_HOST": "gw.example,gw2.example"},
			[]string{"192.0.2.1:9000", "sandbox.test", "gw.example:9000", "gw2.example"}, []string{"rebind.attacker.example", "192.0.2.2:9000"}},
		{[]string{"--listen-any"}, nil, []string{"192.0.2.2:9000", "[2001:db8::2]:9000"}, []string{"rebind.attacker.example:9000"}},
	} {
		f, err := parseSandboxFlags(c.args, e(c.vars))
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.hostPolicy()
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range c.allow {
			if !p.Allows(h) {
				t.Errorf("sandbox %v %v: Host %q refused", c.args, c.vars, h)
			}
		}
		for _, h := range c.refus {
			if p.Allows(h) {
				t.Errorf("sandbox %v %v: Host %q allowed", c.args, c.vars, h)
			}
		}
	}
}
