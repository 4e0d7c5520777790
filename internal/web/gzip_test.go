package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Pages, the stylesheet and the SVG icon are gzip-compressed for clients
// that accept it (a Content-Length, if any, is the compressed one), and
// say Vary: Accept-Encoding either way; pictures, the
// JSON API, HEAD and range requests and clients that refuse gzip get the
// bytes as they are.
func TestGzip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := h.buy(h.goods.ID)
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(method, path string, header map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, h.srv.URL+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	gunzip := func(b []byte) string {
		t.Helper()
		zr, err := gzip.NewReader(strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	accept := map[string]string{"Accept-Encoding": "gzip, deflate, br"}
	for _, c := range []struct{ path, want string }{
		{"/", "</html>"},
		{"/static/style.css", "--brand"},
		{"/static/favicon.svg", "</svg>"},
		{"/orders/" + o.OutTradeNo, o.OutTradeNo},
		{"/no/such/page", "找不到这个页面"},
	} {
		resp, zipped := get("GET", c.path, accept)
		if cl := resp.Header.Get("Content-Length"); resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" ||
			cl != "" && cl != strconv.Itoa(len(zipped)) {
			t.Errorf("%s: Content-Encoding %q, Vary %q, Content-Length %q", c.path, resp.Header.Get("Content-Encoding"),
				resp.Header.Get("Vary"), resp.Header.Get("Content-Length"))
			continue
		}
		plainResp, plain := get("GET", c.path, nil)
		if plainResp.Header.Get("Content-Encoding") != "" || plainResp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s without Accept-Encoding: Content-Encoding %q, Vary %q", c.path, plainResp.Header.Get("Content-Encoding"), plainResp.Header.Get("Vary"))
		}
		if body := gunzip(zipped); !strings.Contains(body, c.want) || len(zipped) >= len(plain) && len(plain) > 1000 {
			t.Errorf("%s: %d bytes compressed, %d plain, body has %q: %v", c.path, len(zipped), len(plain), c.want, strings.Contains(body, c.want))
		}
	}
	for _, c := range []struct {
		method, path string
		header       map[string]string
	}{
		{"GET", "/", map[string]string{"Accept-Encoding": "gzip;q=0, identity"}},
		{"GET", "/", map[string]string{"Accept-Encoding": "br"}},
		{"HEAD", "/", accept},
		{"GET", "/static/style.css", map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-99"}},
		{"GET", "/api/orders/" + o.OutTradeNo, accept},
		{"GET", "/healthz", accept},
	} {
		if resp, _ := get(c.method, c.path, c.header); resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s %s %v: compressed", c.method, c.path, c.header)
		}
	}
	if resp, b := get("GET", "/static/style.css", map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-99"}); resp.StatusCode != http.StatusPartialContent || len(b) != 100 {
		t.Errorf("range request: %s, %d bytes", resp.Status, len(b))
	}
}
