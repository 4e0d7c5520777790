package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"alishop/internal/store"
)

// Start-up: the shop listens before its database is ready, says what it
// uses, and waits for the database instead of exiting.

// dbRetryFirst and dbRetryMax bound the back-off between tries to open a
// database that cannot be reached or fails at start: 1 s, doubling, at
// most 30 s.
const (
	dbRetryFirst = time.Second
	dbRetryMax   = 30 * time.Second
)

// frontHandler serves the handler set last; the listener answers with
// startingHandler until the shop is ready.
type frontHandler struct{ h atomic.Pointer[http.Handler] }

func (f *frontHandler) set(h http.Handler) { f.h.Store(&h) }

func (f *frontHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*f.h.Load()).ServeHTTP(w, r)
}

// startingPage is what every request but the health checks gets while
// the shop waits for its database.
const startingPage = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>商店正在启动</title></head>
<body><main><h1>商店正在启动</h1><p>请稍后再试。</p></main></body></html>
`

// startingHandler answers while the shop waits for its database: the
// process is alive (/healthz 200) but not ready (/readyz 503), and
// everything else is 503 with Retry-After, which Alipay's notifications
// are retried after too.
func startingHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch r.URL.Path {
		case "/healthz":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"starting"}`+"\n")
		case "/readyz":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"status":"unavailable"}`+"\n")
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			if r.Method != http.MethodHead {
				io.WriteString(w, startingPage)
			}
		}
	})
}

// dbDisplay is how the database is named in the start-up line: a SQLite
// path as given, a PostgreSQL URL without its password.
func dbDisplay(db string) string {
	if !store.IsPostgresURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.User(u.User.Username())
	}
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		q.Del("password")
		q.Del("sslpassword")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// printStartLine prints the one start-up line: where the shop listens, the
// database it uses and the notify URL it gives Alipay.
func printStartLine(w io.Writer, listenURL, db, notifyURL string) {
	fmt.Fprintf(w, "alishop starting on %s/: database %s; Alipay notifications to %s\n", listenURL, dbDisplay(db), notifyURL)
}

// unreachableFromAlipay says why Alipay's servers cannot send a
// notification to notifyURL ("" when nothing is wrong that can be seen
// without resolving names): its host is a loopback, private, link-local or
// unspecified address, or localhost.
func unreachableFromAlipay(notifyURL string) string {
	u, err := url.Parse(notifyURL)
	if err != nil {
		return "not a URL"
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "a loopback name"
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate() || (a.Is4() && netip.MustParsePrefix("100.64.0.0/10").Contains(a)):
		return "a private address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsUnspecified():
		return "an unspecified address"
	}
	return ""
}

// warnNotifyURL warns when a real app's notify URL cannot be reached by
// Alipay: payments would then be found only by the reconciler's queries.
func warnNotifyURL(log *slog.Logger, realApp bool, notifyURL string) {
	if !realApp {
		return
	}
	if why := unreachableFromAlipay(notifyURL); why != "" {
		log.Warn("notify URL is not reachable from Alipay: set --public-url to the https URL of the shop's proxy",
			"notify_url", notifyURL, "host", why)
	}
}

// dbError marks an error of the database met while the shop starts
// (opening and migrating it, or a step that writes to it): waiting may
// cure it. Any other error (a configuration the shop refuses) is final.
type dbError struct{ error }

func (e dbError) Unwrap() error { return e.error }

// permanentDBError reports whether an error of the database at start is
// one that waiting cannot cure: a schema newer than this program's.
func permanentDBError(err error) bool {
	return strings.Contains(err.Error(), "newer than this program")
}

// waitForDB runs open until it succeeds, ctx ends (its error is returned)
// or it fails with an error waiting cannot cure (one not marked dbError,
// or a schema newer than this program). Between tries it waits
// with back-off, logging each failure with the next wait. SQLite is not
// waited for: a local file that cannot be opened is a set-up error, and
// the first error is returned.
func waitForDB[T any](ctx context.Context, log *slog.Logger, db string, open func(context.Context) (T, error)) (T, error) {
	wait := dbRetryFirst
	for try := 1; ; try++ {
		v, err := open(ctx)
		if err == nil {
			if try > 1 {
				log.Info("database ready", "database", dbDisplay(db), "tries", try)
			}
			return v, nil
		}
		if ctx.Err() != nil || !errors.As(err, new(dbError)) || !store.IsPostgresURL(db) || permanentDBError(err) {
			return v, err
		}
		log.Warn("database not ready; trying again", "database", dbDisplay(db), "try", try, "next_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, dbRetryMax)
	}
}
