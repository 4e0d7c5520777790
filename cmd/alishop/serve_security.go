package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"alishop/internal/store"
	"alishop/internal/web"
)

// securityFlags: who may reach the shop, and how long inbound messages are
// kept (docs/SECURITY.md).
type securityFlags struct {
	sandboxListenAny bool
	keepVerified     time.Duration
	keepUnverified   time.Duration
	maxUnverified    int
	limits           web.Limits
}

func (f *securityFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.sandboxListenAny, "sandbox-listen-any", false, "with the built-in sandbox, allow a non-loopback --addr (a LAN demo: anyone who can reach it can pay any order at the sandbox cashier)")
	fs.DurationVar(&f.keepVerified, "keep-verified", 180*24*time.Hour, "how long verified notifications, returns and query answers are kept after they were last received")
	fs.DurationVar(&f.keepUnverified, "keep-unverified", 7*24*time.Hour, "how long messages that failed verification are kept")
	fs.IntVar(&f.maxUnverified, "max-unverified", 10_000, "at most this many messages that failed verification are kept (the oldest go first)")
	d := web.DefaultLimits
	fs.IntVar(&f.limits.CheckoutBurst, "checkout-burst", d.CheckoutBurst, "orders (and payment checks) one client address may make at once")
	fs.DurationVar(&f.limits.CheckoutEvery, "checkout-every", d.CheckoutEvery, "one more order per client address per this interval, after the burst")
	fs.IntVar(&f.limits.UnverifiedBurst, "unverified-burst", d.UnverifiedBurst, "messages failing verification stored per client address at once")
	fs.DurationVar(&f.limits.UnverifiedEvery, "unverified-every", d.UnverifiedEvery, "one more stored per client address per this interval, after the burst")
	fs.IntVar(&f.limits.LoginFailures, "login-failures", d.LoginFailures, "failed admin logins per client address within --login-window before it is refused (429)")
	fs.DurationVar(&f.limits.LoginWindow, "login-window", d.LoginWindow, "the window of --login-failures")
}

func (f *securityFlags) check() error {
	switch {
	case f.keepVerified < 24*time.Hour:
		return usageError("serve: --keep-verified %s: want at least 24h", f.keepVerified)
	case f.keepUnverified < time.Hour:
		return usageError("serve: --keep-unverified %s: want at least 1h", f.keepUnverified)
	case f.maxUnverified < 100:
		return usageError("serve: --max-unverified %d: want at least 100", f.maxUnverified)
	case f.limits.CheckoutBurst < 1, f.limits.UnverifiedBurst < 1, f.limits.LoginFailures < 1:
		return usageError("serve: --checkout-burst, --unverified-burst and --login-failures must be at least 1")
	case f.limits.CheckoutEvery <= 0, f.limits.UnverifiedEvery <= 0, f.limits.LoginWindow <= 0:
		return usageError("serve: --checkout-every, --unverified-every and --login-window must be positive")
	}
	return nil
}

// checkSandboxAddr refuses, with the built-in sandbox, a listen address
// that is not loopback: its cashier pays any order without money.
func (f *securityFlags) checkSandboxAddr(addr string) error {
	if f.sandboxListenAny || loopbackAddr(addr) {
		return nil
	}
	return usageError("serve: --addr %s is reachable from the network, and the built-in sandbox pays any order without money; listen on 127.0.0.1, configure an Alipay app, or pass --sandbox-listen-any", addr)
}

// loopbackAddr reports whether a listen address binds loopback only: an
// IP loopback host or "localhost". An empty host binds every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// privateDir creates dir if needed and makes it 0700 whatever the umask.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// pruneEvery is how often stored inbound messages are pruned.
const pruneEvery = 10 * time.Minute

// runPruner prunes stored inbound messages now and every pruneEvery until
// ctx ends or stop is called; stop returns once it has stopped.
func runPruner(ctx context.Context, db *store.DB, f *securityFlags, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(pruneEvery)
		defer t.Stop()
		for {
			now := time.Now()
			n, err := db.PruneInbound(ctx, now.Add(-f.keepUnverified), now.Add(-f.keepVerified), f.maxUnverified)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("pruning stored messages", "err", err)
			case n > 0:
				log.Info("pruned stored messages", "rows", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
