// Command alishop-load is the shop's load and chaos run on one machine: it
// starts the stand-alone Alipay sandbox (`alishop sandbox`) and N shop
// processes (`alishop serve --db postgres://…`) on one fresh PostgreSQL
// schema behind a small round-robin proxy (the load balancer Alipay's
// notifications and the buyers go through), drives checkout → pay →
// notification at a set rate for a set time, refunds some of the paid
// orders from the admin page, SIGKILLs and restarts instances during the
// run, and then checks the invariants against the sandbox: every payment
// the sandbox took is paid exactly once in the shop and every refund is
// applied exactly once. It prints orders/s and latency percentiles and
// exits 1 when an invariant does not hold.
//
//	go run ./cmd/alishop-load --db 'postgres://root@127.0.0.1:5432/test?sslmode=disable' \
//	    --instances 3 --rate 30 --duration 60s --kill-every 5s
//
// `alishop-load wrk` measures instead the fresh-notification rate of a SQLite
// and a PostgreSQL shop from outside with wrk (scripts/notify-wrk.lua; see
// wrk.go).
//
// Every address it uses is on loopback; every loop is bounded in count and
// time (docs/BENCHMARKS.md has runs and their numbers).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err (if any) and returns the process exit code: 0, 1 for a
// failed run or a broken invariant, 2 for bad usage.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "alishop-load:", err)
	if _, ok := err.(usageError); ok {
		return 2
	}
	return 1
}

type usageError string

func (e usageError) Error() string { return string(e) }
