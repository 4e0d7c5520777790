package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPageWeight: the real program serves its pages, stylesheet and icon
// gzip-compressed to a client that accepts it, and each is smaller so; it
// prints a table of the bytes on the wire with and without gzip
// (docs/BENCHMARKS.md, "Page weight").
func TestPageWeight(t *testing.T) {
	p := startShop(t, t.TempDir(), "--shop-name", "青禾小铺")
	paid, gw := p.buy("1")
	p.openCashier(gw)
	p.pay(paid)
	p.waitPaid(paid)
	for range 19 {
		p.buy("2")
	}
	admin := p.login().String()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}
	fetch := func(path, encoding string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", p.base+path, nil)
		if strings.HasPrefix(path, "/admin/") {
			req.Header.Set("Cookie", admin)
		}
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %v", path, resp.Status, err)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			zr, err := gzip.NewReader(strings.NewReader(string(b)))
			if err != nil {
				t.Fatalf("GET %s: Content-Encoding %s: %v", path, ce, err)
			}
			if _, err := io.Copy(io.Discard, zr); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		return len(b), resp.Header.Get("Content-Encoding")
	}
	t.Logf("| page | bytes | gzip bytes | gzip / plain |")
	t.Logf("|---|---:|---:|---:|")
	for _, c := range []struct{ name, path string }{
		{"home (5 goods)", "/"},
		{"stylesheet", "/static/style.css"},
		{"icon (SVG)", "/static/favicon.svg"},
		{"order page", "/orders/" + paid},
		{"admin orders (20 rows)", "/admin/orders"},
		{"admin order", "/admin/orders/" + paid},
	} {
		plain, enc := fetch(c.path, "")
		zipped, zenc := fetch(c.path, "gzip, deflate, br")
		if enc != "" || zenc != "gzip" || zipped >= plain {
			t.Errorf("%s: %d bytes (%q) plain, %d bytes (%q) with gzip", c.path, plain, enc, zipped, zenc)
		}
		t.Logf("| %s | %d | %d | %.0f %% |", c.name, plain, zipped, 100*float64(zipped)/float64(plain))
	}
}
