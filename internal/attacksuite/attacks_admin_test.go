package attacksuite

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	shoppkg "alishop/internal/shop"
)

// paidOrder buys goods at price as a buyer from c and pays at the sandbox's
// cashier, then waits until the order is paid; it returns its number.
func (s *shop) paidOrder(t *testing.T, c *http.Client, goodsID int64) string {
	t.Helper()
	no, gw := s.checkout(t, c, goodsID)
	resp, body := do(t, c, "POST", openCashier(t, c, gw), form("login", "buyer@sandbox.com", "password", "111111", "action", "pay"), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cashier: HTTP %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, c, "GET", resp.Header.Get("Location"), nil, nil); resp.StatusCode != 200 || !strings.Contains(body, "支付成功") {
		t.Fatalf("return page: HTTP %d %.300s", resp.StatusCode, body)
	}
	return no
}

// sandboxRefunds lists the refunds the sandbox (Alipay) made of order no.
func (s *shop) sandboxRefunds(t *testing.T, c *http.Client, no string) []string {
	t.Helper()
	resp, body := do(t, c, "GET", s.base+"/sandbox/api/trades?app_id="+sandboxAppID+"&out_trade_no="+no, nil, nil)
	var tv struct {
		OutTradeNo string `json:"out_trade_no"`
		Refunds    []struct {
			OutRequestNo string `json:"out_request_no"`
		}
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tv) != nil || tv.OutTradeNo != no {
		t.Fatalf("sandbox trade %s: HTTP %d %.300s", no, resp.StatusCode, body)
	}
	var out []string
	for _, r := range tv.Refunds {
		out = append(out, r.OutRequestNo)
	}
	return out
}

var confirmKey = regexp.MustCompile(`name="key" value="(R[0-9a-f]+)"`)

// TestRefundConfirmForgedKey: a refund confirmation posted by the admin's
// browser with a well-formed key that step 1 never issued is refused, and
// no refund call reaches Alipay (the sandbox has made none); the two steps
// with the key step 1 issued make the refund.
func TestRefundConfirmForgedKey(t *testing.T) {
	t.Parallel()
	s := startShop(t, "127.0.0.1:0")
	adminC, buyer := client("127.0.0.50"), client("127.0.0.51")
	admin := s.login(t, adminC)
	no := s.paidOrder(t, buyer, s.addGoods(t, adminC, admin, "退款测试", "5.00"))
	page := s.base + "/admin/orders/" + no

	forged := shoppkg.NewOutRequestNo(time.Now())
	resp, body := do(t, adminC, "POST", page+"/refunds/confirm", form("key", forged, "amount", "5.00", "reason", "伪造"), sameOrigin, admin)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "退款确认无效或已过期") {
		t.Fatalf("forged key: HTTP %d %.300s", resp.StatusCode, body)
	}
	if rs := s.sandboxRefunds(t, buyer, no); len(rs) != 0 || s.count(t, "SELECT COUNT(*) FROM refunds") != 0 {
		t.Fatalf("a forged confirmation made a refund: at the sandbox %v", rs)
	}
	if st := s.orderStatus(t, buyer, no); st != "paid" {
		t.Fatalf("order %s is %s", no, st)
	}
	t.Logf("refused: a confirmation with key %s that step 1 never issued answered HTTP %d; the sandbox made no refund, none stored", forged, resp.StatusCode)

	// The two steps, as the admin's browser posts them.
	resp, body = do(t, adminC, "POST", page+"/refunds", form("amount", "5.00", "reason", "退货"), sameOrigin, admin)
	m := confirmKey.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("step 1: HTTP %d %.300s", resp.StatusCode, body)
	}
	resp, body = do(t, adminC, "POST", page+"/refunds/confirm", form("key", m[1], "amount", "5.00"), sameOrigin, admin)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: HTTP %d %.300s", resp.StatusCode, body)
	}
	if rs := s.sandboxRefunds(t, buyer, no); len(rs) != 1 || rs[0] != m[1] {
		t.Fatalf("refunds at the sandbox after the two steps: %v", rs)
	}
	t.Logf("the two steps with the key step 1 issued made refund %s at the sandbox", m[1])
}

// TestPasswdEndsSessions: `alishop passwd` run with the current password
// ends the admin session opened before it: its cookie is sent to the login
// page. The password still logs in.
func TestPasswdEndsSessions(t *testing.T) {
	t.Parallel()
	s := startShop(t, "127.0.0.1:0")
	adminC := client("127.0.0.52")
	admin := s.login(t, adminC)
	if resp, body := do(t, adminC, "GET", s.base+"/admin/orders", nil, nil, admin); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session does not work before passwd: HTTP %d %.300s", resp.StatusCode, body)
	}
	cmd := exec.Command(binary, "passwd", "--data", s.data)
	cmd.Env = append(os.Environ(), "ALISHOP_DB=")
	cmd.Stdin = strings.NewReader(adminPassword + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "every admin session was ended") {
		t.Fatalf("alishop passwd: %v\n%s", err, out)
	}
	resp, body := do(t, adminC, "GET", s.base+"/admin/orders", nil, nil, admin)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
		t.Fatalf("the session from before passwd (same password): HTTP %d %s %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	s.login(t, adminC)
	t.Logf("passwd with the current password: the earlier session's cookie is sent to %s; the password still logs in", resp.Header.Get("Location"))
}
