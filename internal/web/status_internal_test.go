package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
)

// Every error status has a Chinese heading and message, and the error page
// of a status no handler reaches yet (429 from a rate limit) is the same
// Chinese page in the layout.
func TestStatusTextsChinese(t *testing.T) {
	t.Parallel()
	han := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
	}
	for code := 400; code < 600; code++ {
		if !han(statusHeading(code)) || !han(statusMessage(code)) {
			t.Errorf("%d: %q / %q", code, statusHeading(code), statusMessage(code))
		}
	}
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/orders", "/admin/orders"} {
		rec := httptest.NewRecorder()
		s.renderError(rec, httptest.NewRequest("POST", path, nil), http.StatusTooManyRequests, "", "")
		body := rec.Body.String()
		if rec.Code != 429 || !strings.Contains(body, "操作太频繁了") || !strings.Contains(body, "<header>") ||
			!strings.Contains(body, `id="back"`) || strings.Contains(body, "Too Many Requests") {
			t.Errorf("429 page for %s: %d\n%s", path, rec.Code, body)
		}
	}
}
