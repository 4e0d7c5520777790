package alipay

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testKeysOnce sync.Once
	testKeys     [3]*rsa.PrivateKey
	testKeysErr  error
)

// testKey returns one of the fixed test keys in testdata/keys: 0 is the app
// key of test clients, 1 the fake gateway's "Alipay" key, 2 an unrelated key.
func testKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for n := range testKeys {
			testKeys[n], testKeysErr = LoadPrivateKeyFile(fmt.Sprintf("testdata/keys/test_%d.pem", n))
			if testKeysErr != nil {
				return
			}
		}
	})
	if testKeysErr != nil {
		t.Fatal(testKeysErr)
	}
	return testKeys[i]
}

// fixedNow is the clock of test clients: 2024-01-02 15:04:05 in Beijing.
func fixedNow() time.Time { return time.Date(2024, 1, 2, 7, 4, 5, 0, time.UTC) }

const testAppID = "9021000122689420"

// fakeGateway is an httptest Alipay gateway. It parses every request the
// way Alipay does (query and form body merged), checks the protocol
// parameters and the request signature with the app public key, records
// what it got, and answers with the body its reply function builds.
type fakeGateway struct {
	t      testing.TB
	srv    *httptest.Server
	appPub *rsa.PublicKey
	key    *rsa.PrivateKey // the "Alipay" private key

	mu    sync.Mutex
	reqs  []gotRequest
	reply func(g gotRequest) (status int, body string)
}

type gotRequest struct {
	HTTPMethod string
	Query      url.Values // the raw URL query
	Params     map[string]string
	Biz        map[string]any // biz_content decoded
	Problems   []string       // protocol violations found
}

func newFakeGateway(t testing.TB) *fakeGateway {
	g := &fakeGateway{t: t, appPub: &testKey(t, 0).PublicKey, key: testKey(t, 1)}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) url() string { return g.srv.URL + "/gateway.do" }

func (g *fakeGateway) client(t testing.TB, mut ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		AppID: testAppID, PrivateKey: testKey(t, 0), AlipayPublicKey: &g.key.PublicKey,
		Gateway: g.url(), Now: fixedNow, HTTPClient: g.srv.Client(),
		NotifyURL: "https://shop.example/alipay/notify", ReturnURL: "https://shop.example/alipay/return",
	}
	for _, m := range mut {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (g *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
	got := g.parse(r)
	g.mu.Lock()
	g.reqs = append(g.reqs, got)
	reply := g.reply
	g.mu.Unlock()
	status, body := http.StatusOK, ""
	if reply != nil {
		status, body = reply(got)
	}
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// parse reads a request as the gateway does and lists protocol problems.
func (g *fakeGateway) parse(r *http.Request) gotRequest {
	got := gotRequest{HTTPMethod: r.Method, Query: r.URL.Query(), Params: map[string]string{}}
	bad := func(f string, a ...any) { got.Problems = append(got.Problems, fmt.Sprintf(f, a...)) }
	add := func(v url.Values, where string) {
		for k, vs := range v {
			if len(vs) != 1 {
				bad("%s: %s given %d times", where, k, len(vs))
			}
			if old, dup := got.Params[k]; dup {
				bad("%s given in query and body (%q, %q)", k, old, vs[0])
			}
			got.Params[k] = vs[0]
		}
	}
	add(r.URL.Query(), "query")
	if r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			bad("Content-Type %q", ct)
		}
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		if err != nil {
			bad("body is not a form: %v", err)
		}
		add(form, "body")
	}
	p := got.Params
	if r.URL.Query().Get("charset") != "utf-8" {
		bad("charset not in the URL query")
	}
	for _, k := range []string{"app_id", "method", "format", "charset", "sign_type", "sign", "timestamp", "version"} {
		if p[k] == "" {
			bad("missing %s", k)
		}
	}
	if p["app_id"] != testAppID {
		bad("app_id %q", p["app_id"])
	}
	if p["version"] != "1.0" || p["sign_type"] != "RSA2" {
		bad("version %q sign_type %q", p["version"], p["sign_type"])
	}
	if _, err := time.ParseInLocation(TimeLayout, p["timestamp"], Beijing); err != nil {
		bad("timestamp %q", p["timestamp"])
	}
	if err := Verify(g.appPub, SignType(p["sign_type"]), SignContent(p, RuleV2), p["sign"]); err != nil {
		bad("request signature: %v (string to sign %s)", err, SignContent(p, RuleV2))
	}
	if biz, ok := p["biz_content"]; ok {
		if err := json.Unmarshal([]byte(biz), &got.Biz); err != nil {
			bad("biz_content is not JSON: %v", err)
		}
	}
	return got
}

func (g *fakeGateway) last(t testing.TB) gotRequest {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.reqs) == 0 {
		t.Fatal("the gateway received no request")
	}
	r := g.reqs[len(g.reqs)-1]
	if len(r.Problems) > 0 {
		t.Fatalf("the gateway found problems: %s", strings.Join(r.Problems, "; "))
	}
	return r
}

func (g *fakeGateway) setReply(f func(gotRequest) (int, string)) {
	g.mu.Lock()
	g.reply = f
	g.mu.Unlock()
}

// signedBody is {"<node>":<content>,"sign":"…"} with content signed by key.
func signedBody(t testing.TB, key *rsa.PrivateKey, node, content string) string {
	t.Helper()
	sig, err := Sign(key, SignTypeRSA2, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return `{"` + node + `":` + content + `,"sign":"` + sig + `"}`
}

func TestFakeGatewayRejectsBadSignature(t *testing.T) {
	t.Parallel()
	// The fake gateway itself must be able to fail: a request signed with
	// another key is reported.
	g := newFakeGateway(t)
	c := g.client(t, func(cfg *Config) { cfg.PrivateKey = testKey(t, 2) })
	g.setReply(func(gotRequest) (int, string) { return 200, "{}" })
	_, _ = c.Call(t.Context(), CallRequest{Method: "alipay.trade.query", Biz: map[string]string{"out_trade_no": "x"}}, nil)
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.reqs) != 1 || len(g.reqs[0].Problems) == 0 || !strings.Contains(strings.Join(g.reqs[0].Problems, ";"), "request signature") {
		t.Fatalf("problems = %v, want a request signature problem", g.reqs)
	}
}
