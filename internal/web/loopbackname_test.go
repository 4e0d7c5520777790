package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"alishop/internal/web"
)

// TestOneLoopbackName: with a loopback public URL, a browser's page load
// under another loopback name on the same port is sent to the public URL's
// name with its path and query; anything else is served where it came.
func TestOneLoopbackName(t *testing.T) {
	t.Parallel()
	served := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := web.OneLoopbackName(served, "http://127.0.0.1:8000")
	const html = "text/html,application/xhtml+xml,*/*;q=0.8"
	for _, c := range []struct {
		method, target, accept string
		want                   int
		location               string
	}{
		{"GET", "http://localhost:8000/orders?page=2", html, http.StatusFound, "http://127.0.0.1:8000/orders?page=2"},
		{"HEAD", "http://localhost:8000/", html, http.StatusFound, "http://127.0.0.1:8000/"},
		{"GET", "http://[::1]:8000/", html, http.StatusFound, "http://127.0.0.1:8000/"},
		{"GET", "http://127.0.0.1:8000/orders", html, http.StatusTeapot, ""},         // the public name
		{"GET", "http://localhost:8000/healthz", "*/*", http.StatusTeapot, ""},       // a script
		{"POST", "http://localhost:8000/alipay/notify", html, http.StatusTeapot, ""}, // not a page load
		{"GET", "http://localhost:9000/", html, http.StatusTeapot, ""},               // another port
		{"GET", "http://shop.example.com:8000/", html, http.StatusTeapot, ""},        // not loopback
	} {
		req := httptest.NewRequest(c.method, c.target, nil)
		req.Header.Set("Accept", c.accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want || rec.Header().Get("Location") != c.location {
			t.Errorf("%s %s (Accept %s): %d %q, want %d %q", c.method, c.target, c.accept, rec.Code, rec.Header().Get("Location"), c.want, c.location)
		}
	}
	// A shop with a public name is not touched.
	h = web.OneLoopbackName(served, "https://shop.example.com")
	req := httptest.NewRequest("GET", "http://localhost:8000/", nil)
	req.Header.Set("Accept", html)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusTeapot {
		t.Errorf("public shop: %d", rec.Code)
	}
}
