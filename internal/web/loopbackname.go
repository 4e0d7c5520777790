package web

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// OneLoopbackName sends a browser that opens a shop served on loopback
// under another loopback name to the name of publicURL: with publicURL
// http://127.0.0.1:8000, a page asked for at http://localhost:8000/… is
// answered 302 to http://127.0.0.1:8000/…. Browsers keep cookies per host
// name, so without it 我的订单 would list only the orders made under one
// name, while Alipay sends the buyer back to publicURL. Only page loads
// (GET or HEAD accepting HTML) on publicURL's port are redirected; scripts,
// health checks and notifications are answered under any name. When
// publicURL's host is not loopback, h is returned as it is.
func OneLoopbackName(h http.Handler, publicURL string) http.Handler {
	u, err := url.Parse(publicURL)
	if err != nil || !loopbackName(u.Hostname()) {
		return h
	}
	want, port := hostName(u.Host), portOf(u)
	origin := u.Scheme + "://" + u.Host
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := hostName(r.Host)
		_, p, err := net.SplitHostPort(r.Host)
		if err != nil {
			p = portOf(&url.URL{Scheme: u.Scheme})
		}
		if name != want && p == port && loopbackName(name) && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
			strings.Contains(r.Header.Get("Accept"), "text/html") {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, origin+r.URL.RequestURI(), http.StatusFound)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// portOf is u's port, or its scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// loopbackName reports whether a host name (no port) is localhost or a
// loopback address.
func loopbackName(host string) bool {
	host = hostName(host)
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}
