package sandbox

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The authorize page escapes what the request brings, refuses bad
// requests, and its form is CSRF-safe: a cross-site post is refused by the
// browser's headers, and a post without the page's one-time token (which
// another site cannot read) signs no one in.
func TestAuthorizePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(q url.Values) (int, string) {
		resp, err := noFollow.Get(e.srv.URL + "/oauth2/publicAppAuthorize.htm?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	good := url.Values{"app_id": {testAppID}, "scope": {"auth_user"}, "redirect_uri": {`https://shop.example/cb?a="><script>x</script>`}, "state": {"<b>s</b>"}}
	st, page := get(good)
	if st != 200 || strings.Contains(page, "<script>x") || strings.Contains(page, "<b>s</b>") || !strings.Contains(page, "&lt;script&gt;") {
		t.Fatalf("authorize page: %d\n%s", st, page)
	}
	for name, q := range map[string]url.Values{
		"unknown app":  {"app_id": {"2021000000000000"}, "scope": {"auth_base"}, "redirect_uri": {"https://shop.example/cb"}},
		"bad scope":    {"app_id": {testAppID}, "scope": {"auth_everything"}, "redirect_uri": {"https://shop.example/cb"}},
		"bad redirect": {"app_id": {testAppID}, "scope": {"auth_base"}, "redirect_uri": {"javascript:alert(1)"}},
		"long state":   {"app_id": {testAppID}, "scope": {"auth_base"}, "redirect_uri": {"https://shop.example/cb"}, "state": {strings.Repeat("s", 101)}},
	} {
		if st, page := get(q); st != http.StatusBadRequest || !strings.Contains(page, `id="error"`) || strings.Contains(page, `name="form"`) {
			t.Errorf("%s: %d", name, st)
		}
	}
	tok := regexp.MustCompile(`name="form" value="([0-9a-f]+)"`).FindStringSubmatch(page)[1]
	post := func(form url.Values, header map[string]string) *http.Response {
		req, _ := http.NewRequest("POST", e.srv.URL+"/oauth2/publicAppAuthorize.htm", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	login := url.Values{"login": {DefaultBuyer}, "password": {BuyerPassword}, "action": {"allow"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range login {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	if resp := post(with("form", tok), map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %s", resp.Status)
	}
	if resp := post(login, nil); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("post without the page's token: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	// Refusing: back to redirect_uri with the state and no code.
	resp := post(with("form", tok), nil)
	resp2 := post(with("action", "deny"), nil) // no token: refused as above
	if resp2.StatusCode != http.StatusBadRequest {
		t.Fatalf("deny without a token: %s", resp2.Status)
	}
	back, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || back.Query().Get("auth_code") == "" || back.Query().Get("state") != "<b>s</b>" || back.Query().Get("a") != `"><script>x</script>` {
		t.Fatalf("consent: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	_, page = get(good)
	tok = regexp.MustCompile(`name="form" value="([0-9a-f]+)"`).FindStringSubmatch(page)[1]
	deny := post(url.Values{"form": {tok}, "action": {"deny"}}, nil)
	back, _ = url.Parse(deny.Header.Get("Location"))
	if deny.StatusCode != http.StatusSeeOther || back.Query().Get("auth_code") != "" || back.Query().Get("error") != "access_denied" {
		t.Fatalf("deny: %s %q", deny.Status, deny.Header.Get("Location"))
	}
	// An avatar is served for user ids only.
	for path, want := range map[string]int{"/avatar/2088102177846880.png": 200, "/avatar/../x.png": 404, "/avatar/2088.png": 404} {
		r, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, r.StatusCode, want)
		}
	}
}
