package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"alishop/internal/metrics"
)

// serveMetrics serves /metrics on its own listener at addr, to any client
// (a firewall or the address chosen decides who reaches it). stop shuts it
// down.
func serveMetrics(ctx context.Context, addr string, mx *metrics.Metrics, log *slog.Logger, e *env) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, failure("serve: --metrics-addr %s: %v", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", mx.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	go srv.Serve(ln)
	fmt.Fprintf(e.stdout, "metrics at http://%s/metrics\n", ln.Addr())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// loopbackMetrics is what the shop's own listener serves at /metrics (to
// loopback clients): nothing when --metrics-addr gives metrics a listener
// of their own.
func loopbackMetrics(cfg *serveConfig, mx *metrics.Metrics) http.Handler {
	if cfg.metricsAddr != "" {
		return nil
	}
	return mx.Handler()
}
