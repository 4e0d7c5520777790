package attacksuite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"alishop/alipay"
	"alishop/internal/store/pgtest"
)

// paddingShapes are what a signature under rule v1 leaves out, each made
// distinct by i: an empty value, a whitespace value, an empty key, a
// whitespace key with 60 KB of text, and a reordering of the parameters.
func paddingShapes() []struct {
	name string
	pad  func(form string, i int) string
} {
	big := strings.Repeat("padding-", 60<<10/8)
	return []struct {
		name string
		pad  func(form string, i int) string
	}{
		{"&x=", func(form string, i int) string { return fmt.Sprintf("%s&x%d=", form, i) }},
		{"&zz=%20%20", func(form string, i int) string { return fmt.Sprintf("%s&zz%d=%%20%%20", form, i) }},
		{"&=anything", func(form string, i int) string { return fmt.Sprintf("%s&=anything%d", form, i) }},
		{"&%20=<60 KB>", func(form string, i int) string { return fmt.Sprintf("%s&%%20=%d%s", form, i, big) }},
		{"reordered", func(form string, i int) string {
			pairs := strings.Split(form, "&")
			r := rand.New(rand.NewPCG(uint64(i), 15))
			for {
				r.Shuffle(len(pairs), func(a, b int) { pairs[a], pairs[b] = pairs[b], pairs[a] })
				if out := strings.Join(pairs, "&"); out != form {
					return out
				}
			}
		}},
	}
}

// msgDB reads the shop's database, SQLite or PostgreSQL, beside the
// running shop.
type msgDB struct {
	db       *sql.DB
	postgres bool
}

func openMsgDB(t *testing.T, s *shop, pgURL string) *msgDB {
	t.Helper()
	m := &msgDB{postgres: pgURL != ""}
	var err error
	if m.postgres {
		m.db, err = sql.Open("pgx", pgURL)
	} else {
		m.db, err = sql.Open("sqlite", "file:"+filepath.Join(s.data, "alishop.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.db.Close() })
	return m
}

// size is the database's size in bytes: on SQLite its pages (what is
// committed, the write-ahead log's copies of pages not counted), on
// PostgreSQL every table of the shop's schema with its indexes and TOAST.
func (m *msgDB) size(t *testing.T) int64 {
	t.Helper()
	q := "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
	if m.postgres {
		q = `SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`
	}
	var n int64
	if err := m.db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("database size: %v", err)
	}
	return n
}

// messages returns how many rows are stored about order no from source,
// and how often they were seen in all.
func (m *msgDB) messages(t *testing.T, no, source string) (rows, seen int64) {
	t.Helper()
	if err := m.db.QueryRow(`SELECT COUNT(*), CAST(COALESCE(SUM(n.times_seen + COALESCE(r.times_seen, 0)), 0) AS BIGINT)
		FROM notifications n LEFT JOIN message_repeats r ON r.body_hash = n.body_hash WHERE n.out_trade_no = $1 AND n.source = $2`,
		no, source).Scan(&rows, &seen); err != nil {
		t.Fatal(err)
	}
	return rows, seen
}

// TestPaddedGenuineMessages sends a genuine return and a genuine
// notification again in five paddings the signature does not cover, 300
// of each, on SQLite and on PostgreSQL: each is answered as a repeat
// (counted, nothing new stored), the database grows by less than 1 MB,
// and a genuine notification of another order sent during each flood is
// applied.
func TestPaddedGenuineMessages(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		paddedGenuineMessages(t, "")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		paddedGenuineMessages(t, pgtest.URL(t))
	})
}

func paddedGenuineMessages(t *testing.T, pgURL string) {
	var s *shop
	if pgURL != "" {
		s = startShop(t, "127.0.0.1:0", "--db", pgURL)
	} else {
		s = startShop(t, "127.0.0.1:0")
	}
	db := openMsgDB(t, s, pgURL)
	adminC, buyer := client("127.0.0.40"), client("127.0.0.41")
	admin := s.login(t, adminC)
	if resp, body := do(t, adminC, "POST", s.base+"/admin/goods", form("name", "补白测试", "price", "2.00"), sameOrigin, admin); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding goods: HTTP %d %s", resp.StatusCode, body)
	}
	var gid int64
	if err := db.db.QueryRow("SELECT MAX(id) FROM goods").Scan(&gid); err != nil {
		t.Fatal(err)
	}
	var apps struct {
		Apps []struct {
			SellerID string `json:"seller_id"`
		}
	}
	if resp, body := do(t, buyer, "GET", s.base+"/sandbox/api/apps", nil, nil); resp.StatusCode != 200 || json.Unmarshal([]byte(body), &apps) != nil || len(apps.Apps) == 0 {
		t.Fatalf("sandbox apps: %d %s", resp.StatusCode, body)
	}
	sellerID := apps.Apps[0].SellerID
	alipayKey := s.sandboxKey(t)

	// pay buys order no at the sandbox's cashier and returns the return
	// URL Alipay sends the buyer to.
	pay := func(gatewayURL string) string {
		resp, body := do(t, buyer, "POST", openCashier(t, buyer, gatewayURL), form("login", "buyer@sandbox.com", "password", "111111", "action", "pay"), nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("cashier: HTTP %d %s", resp.StatusCode, body)
		}
		return resp.Header.Get("Location")
	}
	// fresh is a genuine notification (signed with the sandbox's Alipay
	// key) paying order no, which Alipay's sandbox never saw.
	fresh := func(no, tradeNo string) string {
		now := time.Now().In(alipay.Beijing)
		return signNotification(t, alipayKey, map[string]string{"app_id": sandboxAppID, "auth_app_id": sandboxAppID, "seller_id": sellerID,
			"charset": "utf-8", "version": "1.0", "notify_type": "trade_status_sync", "notify_id": "2026" + tradeNo[len(tradeNo)-10:],
			"notify_time": alipay.FormatTime(now), "trade_status": "TRADE_SUCCESS", "out_trade_no": no, "trade_no": tradeNo,
			"total_amount": "2.00", "receipt_amount": "2.00", "buyer_pay_amount": "2.00", "subject": "补白测试",
			"gmt_create": alipay.FormatTime(now), "gmt_payment": alipay.FormatTime(now), "buyer_id": "2088102177846880"})
	}

	// The genuine return of order A, followed by the buyer's browser,
	// applies its payment (confirmed by a query); the genuine
	// notification of order B, delivered by the sandbox, pays B.
	noA, gwA := s.checkout(t, buyer, gid)
	returnURL := pay(gwA)
	if resp, body := do(t, buyer, "GET", returnURL, nil, nil); resp.StatusCode != 200 || !strings.Contains(body, "支付成功") {
		t.Fatalf("return of %s: HTTP %d %.300s", noA, resp.StatusCode, body)
	}
	noB, gwB := s.checkout(t, buyer, gid)
	pay(gwB)
	notifyB := s.acked(t, buyer, noB)
	if st := s.orderStatus(t, buyer, noB); st != "paid" {
		t.Fatalf("order %s is %s after its notification", noB, st)
	}
	noC, _ := s.checkout(t, buyer, gid)
	noD, _ := s.checkout(t, buyer, gid)
	retRows, retSeen := db.messages(t, noA, "return")
	notRows, notSeen := db.messages(t, noB, "notify")
	if retRows != 1 || notRows != 1 {
		t.Fatalf("before the floods: %d returns of %s, %d notifications of %s stored, want 1 each", retRows, noA, notRows, noB)
	}

	u, err := url.Parse(returnURL)
	if err != nil {
		t.Fatal(err)
	}
	returnBase := u.Scheme + "://" + u.Host + u.Path + "?"
	shapes := paddingShapes()
	const each = 300
	total := each * len(shapes)
	flood, other := client("127.0.0.42"), client("127.0.0.43")

	type result struct {
		what           string
		sent, answered int64
		grew           int64
		took           time.Duration
		otherAnswer    string
	}
	// run sends every padding of form through send, and the genuine
	// notification other (of another order) half-way.
	run := func(what, form string, send func(body string) bool, otherBody string) result {
		before := db.size(t)
		var ok atomic.Int64
		var otherAnswer string
		start := time.Now()
		runConcurrently(total, 16, func(i int) {
			if i == total/2 {
				_, otherAnswer = s.notify(t, other, otherBody)
			}
			if send(shapes[i%len(shapes)].pad(form, i)) {
				ok.Add(1)
			}
		})
		return result{what: what, sent: int64(total), answered: ok.Load(), grew: db.size(t) - before, took: time.Since(start), otherAnswer: otherAnswer}
	}
	sendReturn := func(query string) bool {
		resp, err := flood.Get(returnBase + query)
		if err != nil {
			t.Error(err)
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200 && strings.Contains(string(b), "支付成功")
	}
	sendNotify := func(body string) bool {
		resp, err := flood.Post(s.base+"/alipay/notify", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200 && string(b) == "success"
	}

	backend := map[bool]string{false: "SQLite", true: "PostgreSQL"}[pgURL != ""]
	for _, r := range []struct {
		res          result
		no, source   string
		rows0, seen0 int64
		otherNo      string
	}{
		{run("return", u.RawQuery, sendReturn, fresh(noC, "2026112722001400000000001501")), noA, "return", retRows, retSeen, noC},
		{run("notification", notifyB, sendNotify, fresh(noD, "2026112722001400000000001502")), noB, "notify", notRows, notSeen, noD},
	} {
		rows, seen := db.messages(t, r.no, r.source)
		t.Logf("%s, padded genuine %s: %d sent (%d of each of %d shapes) in %v, %d answered as a repeat; stored %d row (was %d), seen %d times (was %d); database grew %d bytes (%.3f MB); a genuine notification of another order sent mid-flood answered %q",
			backend, r.res.what, r.res.sent, each, len(shapes), r.res.took.Round(time.Millisecond), r.res.answered, rows, r.rows0, seen, r.seen0,
			r.res.grew, float64(r.res.grew)/(1<<20), r.res.otherAnswer)
		if r.res.answered != r.res.sent {
			t.Errorf("%s: %d of %d padded copies answered as the genuine message", r.res.what, r.res.answered, r.res.sent)
		}
		if rows != r.rows0 || seen != r.seen0+r.res.sent {
			t.Errorf("%s of %s: %d rows seen %d times; want %d rows seen %d times (every copy counted, none stored)", r.res.what, r.no, rows, seen, r.rows0, r.seen0+r.res.sent)
		}
		if r.res.grew >= 1<<20 {
			t.Errorf("%s: the database grew %d bytes, want < 1 MB", r.res.what, r.res.grew)
		}
		if st := s.orderStatus(t, other, r.otherNo); r.res.otherAnswer != "success" || st != "paid" {
			t.Errorf("the genuine notification of %s sent during the %s flood: answered %q, order %s", r.otherNo, r.res.what, r.res.otherAnswer, st)
		}
	}
}
