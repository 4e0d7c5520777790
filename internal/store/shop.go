package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

var _ shop.Store = (*DB)(nil)

const goodsColumns = "id, name, price_fen, hidden, created_at, updated_at, description, image_version"

func scanGoods(row interface{ Scan(...any) error }) (shop.Goods, error) {
	var g shop.Goods
	var price int64
	var created, updated sql.NullInt64
	if err := row.Scan(&g.ID, &g.Name, &price, &g.Hidden, &created, &updated, &g.Description, &g.ImageVersion); err != nil {
		return g, err
	}
	g.Price, g.CreatedAt, g.UpdatedAt = alipay.Amount(price), fromMS(created), fromMS(updated)
	return g, nil
}

// ListGoods lists goods by id; hidden ones only when includeHidden.
func (db *DB) ListGoods(ctx context.Context, includeHidden bool) ([]shop.Goods, error) {
	q := "SELECT " + goodsColumns + " FROM goods"
	if !includeHidden {
		q += " WHERE NOT hidden"
	}
	rows, err := db.r.QueryContext(ctx, q+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: list goods: %w", err)
	}
	defer rows.Close()
	var out []shop.Goods
	for rows.Next() {
		g, err := scanGoods(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list goods: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Goods returns one goods item or shop.ErrGoodsNotFound.
func (db *DB) Goods(ctx context.Context, id int64) (shop.Goods, error) {
	g, err := scanGoods(db.r.QueryRowContext(ctx, "SELECT "+goodsColumns+" FROM goods WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, shop.ErrGoodsNotFound
	}
	if err != nil {
		return g, fmt.Errorf("store: goods %d: %w", id, err)
	}
	return g, nil
}

// CreateGoods inserts g and sets its ID.
func (db *DB) CreateGoods(ctx context.Context, g *shop.Goods) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO goods (name, price_fen, hidden, created_at, updated_at, description)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			g.Name, int64(g.Price), g.Hidden, ms(g.CreatedAt), ms(g.UpdatedAt), g.Description).Scan(&g.ID)
	})
	if err != nil {
		return fmt.Errorf("store: create goods: %w", err)
	}
	return nil
}

// UpdateGoods updates name, price, hidden and description of g.
func (db *DB) UpdateGoods(ctx context.Context, g *shop.Goods) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE goods SET name = $1, price_fen = $2, hidden = $3, updated_at = $4, description = $5 WHERE id = $6",
			g.Name, int64(g.Price), g.Hidden, ms(g.UpdatedAt), g.Description, g.ID)
		if err != nil {
			return fmt.Errorf("store: update goods %d: %w", g.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return shop.ErrGoodsNotFound
		}
		return nil
	})
}

const orderColumns = `id, out_trade_no, goods_id, subject, amount_fen, status, trade_no, buyer_logon_id, paid_via,
	refunded_fen, needs_review, review_reason, created_at, updated_at, time_expire, paid_at, closed_at`

// The hot statements (prepared once, see writer.go).
const (
	insertOrderSQL = `INSERT INTO orders (out_trade_no, goods_id, subject, amount_fen, status, created_at, updated_at, time_expire)
			SELECT $1, id, name, price_fen, 'unpaid', $2, $3, $4 FROM goods WHERE id = $5 AND NOT hidden
			RETURNING id, subject, amount_fen`
	selectOrderSQL = "SELECT " + orderColumns + " FROM orders WHERE out_trade_no = $1"
	// A verified message already stored (same body_hash) is not stored
	// again but counted (countRepeatSQL); unverified ones have a NULL
	// body_hash and never merge.
	insertNotificationSQL = `INSERT INTO notifications
			(source, received_at, remote_addr, method, body, verified, notify_id, out_trade_no, trade_status, outcome, detail,
			 body_hash, api, http_status, headers, settled_refund, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $2)
			ON CONFLICT (body_hash) DO NOTHING`
	countRepeatSQL = `INSERT INTO message_repeats (body_hash, times_seen, last_seen_at) VALUES ($1, 1, $2)
			ON CONFLICT (body_hash) DO UPDATE SET times_seen = message_repeats.times_seen + 1, last_seen_at = excluded.last_seen_at`
	payOrderSQL = `UPDATE orders SET status = 'paid', trade_no = $1, buyer_logon_id = $2, paid_at = $3,
			paid_via = $4, updated_at = $5 WHERE id = $6 AND status = 'unpaid'`
)

func scanOrder(row interface{ Scan(...any) error }) (shop.Order, error) {
	var o shop.Order
	var amount, refunded int64
	var status string
	var tradeNo, buyer, via, reason sql.NullString
	var created, updated, expire, paid, closed sql.NullInt64
	err := row.Scan(&o.ID, &o.OutTradeNo, &o.GoodsID, &o.Subject, &amount, &status, &tradeNo, &buyer, &via,
		&refunded, &o.NeedsReview, &reason, &created, &updated, &expire, &paid, &closed)
	if err != nil {
		return o, err
	}
	o.Amount, o.RefundedFen, o.Status = alipay.Amount(amount), alipay.Amount(refunded), shop.Status(status)
	o.TradeNo, o.BuyerLogonID, o.PaidVia, o.ReviewReason = tradeNo.String, buyer.String, via.String, reason.String
	o.CreatedAt, o.UpdatedAt, o.TimeExpire, o.PaidAt, o.ClosedAt = fromMS(created), fromMS(updated), fromMS(expire), fromMS(paid), fromMS(closed)
	return o, nil
}

// CreateOrder inserts o (unpaid) for the goods o.GoodsID, copying the
// goods' name and price into it in the same statement, and sets o.ID,
// o.Subject and o.Amount. It returns shop.ErrGoodsNotFound or
// shop.ErrGoodsHidden when the goods cannot be bought.
func (db *DB) CreateOrder(ctx context.Context, o *shop.Order) error {
	var amount int64
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.txQueryRow(ctx, tx, insertOrderSQL,
			o.OutTradeNo, ms(o.CreatedAt), ms(o.UpdatedAt), ms(o.TimeExpire), o.GoodsID).Scan(&o.ID, &o.Subject, &amount)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, gerr := db.Goods(ctx, o.GoodsID); gerr != nil {
			return gerr
		}
		return shop.ErrGoodsHidden
	case isUniqueViolation(err):
		return shop.ErrOrderExists
	case err != nil:
		return fmt.Errorf("store: create order: %w", err)
	}
	o.Amount, o.Status = alipay.Amount(amount), shop.StatusUnpaid
	return nil
}

// Order returns an order by out_trade_no or shop.ErrOrderNotFound.
func (db *DB) Order(ctx context.Context, outTradeNo string) (shop.Order, error) {
	return db.orderQuery(ctx, db.r, selectOrderSQL, outTradeNo)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// orderTx is order inside a write transaction, with a prepared statement on
// SQLite (whose single writer already excludes every other), and on
// PostgreSQL locking the row until the transaction ends, so what is decided
// from it still holds when the decision is applied, whichever process
// decides.
func (db *DB) orderTx(ctx context.Context, tx *sql.Tx, outTradeNo string) (shop.Order, error) {
	if db.d.lockRow != "" {
		return db.orderQuery(ctx, tx, selectOrderSQL+db.d.lockRow, outTradeNo)
	}
	return db.orderQuery(ctx, txQuerier{db, tx}, selectOrderSQL, outTradeNo)
}

type txQuerier struct {
	db *DB
	tx *sql.Tx
}

func (q txQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return q.db.txQueryRow(ctx, q.tx, query, args...)
}

func (db *DB) orderQuery(ctx context.Context, q querier, query, outTradeNo string) (shop.Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, query, outTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return o, shop.ErrOrderNotFound
	}
	if err != nil {
		return o, fmt.Errorf("store: order: %w", err)
	}
	return o, nil
}

// ListOrders lists orders newest first, with the total count for paging.
func (db *DB) ListOrders(ctx context.Context, f shop.OrderFilter) ([]shop.Order, int, error) {
	where, args := "", []any{}
	if f.Status != "" {
		where, args = " WHERE status = $1", append(args, string(f.Status))
	}
	var total int
	if err := db.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count orders: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	n := len(args)
	q := fmt.Sprintf("SELECT %s FROM orders%s ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d", orderColumns, where, n+1, n+2)
	rows, err := db.r.QueryContext(ctx, q, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list orders: %w", err)
	}
	defer rows.Close()
	var out []shop.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: list orders: %w", err)
		}
		out = append(out, o)
	}
	return out, total, rows.Err()
}

// Receive implements shop.Store: in one write transaction it stores the
// message raw, reads its order, lets decide choose, applies the decision by
// compare-and-set and records the outcome. The decision is durable when
// Receive returns without error. decide may be called more than once (the
// transaction ran again); only the decision returned was applied.
//
// On SQLite the transaction is shared with the other writes of a batch
// (writer.go); on PostgreSQL with the other Receives of a batch
// (pgbatch.go).
func (db *DB) Receive(ctx context.Context, m *shop.Inbound, decide shop.Decide) (shop.Decision, error) {
	if db.d.postgres {
		return db.receivePostgres(ctx, m, decide)
	}
	var d shop.Decision
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		d, err = db.receiveTx(ctx, tx, m, decide)
		return err
	})
	if err != nil {
		return shop.Decision{}, err
	}
	return d, nil
}

// receiveTx is Receive inside the transaction tx.
func (db *DB) receiveTx(ctx context.Context, tx *sql.Tx, m *shop.Inbound, decide shop.Decide) (shop.Decision, error) {
	var o *shop.Order
	if m.OutTradeNo != "" {
		got, err := db.orderTx(ctx, tx, m.OutTradeNo)
		switch {
		case err == nil:
			o = &got
		case !errors.Is(err, shop.ErrOrderNotFound):
			return shop.Decision{}, err
		}
	}
	var r *shop.Refund
	if o != nil && m.OutRequestNo != "" {
		var err error
		if r, err = refundTx(ctx, tx, o.ID, m.OutRequestNo); err != nil {
			return shop.Decision{}, err
		}
	}
	d := decide(o, r)
	if o != nil {
		if err := db.applyDecision(ctx, tx, o, r, d, m.ReceivedAt); err != nil {
			return shop.Decision{}, err
		}
	}
	body, hash, detail := m.Body, bodyHash(m), d.Detail
	if hash.Valid && m.OutTradeNo != "" && !shop.KeepMessage(d, shop.MaxMessagesPerOrder) {
		over, err := overCap(ctx, tx, m, hash.String, d)
		if err != nil {
			return shop.Decision{}, err
		}
		if over {
			body, hash, detail = nil, sql.NullString{String: overCapHash(m), Valid: true}, overCapDetail(m, d)
		}
	}
	if body == nil {
		body = []byte{}
	}
	res, err := db.txExec(ctx, tx, insertNotificationSQL,
		m.Source, m.ReceivedAt.UnixMilli(), m.RemoteAddr, m.Method, body, m.Verified,
		nullString(m.NotifyID), nullString(m.OutTradeNo), nullString(m.TradeStatus), string(d.Outcome), detail,
		hash, nullString(string(m.API)), nullStatus(m.StatusCode), nullString(shop.HeaderText(m.Header)),
		nullString(d.SettleRefund))
	if err != nil {
		return shop.Decision{}, fmt.Errorf("store: record %s message: %w", m.Source, err)
	}
	if n, _ := res.RowsAffected(); n == 0 && hash.Valid {
		if _, err := db.txExec(ctx, tx, countRepeatSQL, hash.String, m.ReceivedAt.UnixMilli()); err != nil {
			return shop.Decision{}, fmt.Errorf("store: count %s message: %w", m.Source, err)
		}
	}
	return d, nil
}

// applyDecision applies d to order o (and its refund r, when d settles
// one) by compare-and-set, as decided: it changes nothing of d.
func (db *DB) applyDecision(ctx context.Context, tx *sql.Tx, o *shop.Order, r *shop.Refund, d shop.Decision, now time.Time) error {
	var res sql.Result
	var err error
	switch {
	case d.Pay != nil:
		p := d.Pay
		res, err = db.txExec(ctx, tx, payOrderSQL,
			nullString(p.TradeNo), nullString(p.BuyerLogonID), ms(p.PaidAt), p.Via, now.UnixMilli(), o.ID)
	case d.Close:
		res, err = tx.ExecContext(ctx, closeOrderSQL, now.UnixMilli(), o.ID)
	}
	if err != nil {
		return fmt.Errorf("store: update order %s: %w", o.OutTradeNo, err)
	}
	if res != nil {
		if n, _ := res.RowsAffected(); n == 0 {
			// Not possible inside the write lock (SQLite) or the row
			// lock (PostgreSQL) unless the order moved since it was read;
			// refuse rather than report a change.
			return fmt.Errorf("store: order %s changed concurrently", o.OutTradeNo)
		}
	}
	if d.SettleRefund != "" {
		if r == nil || r.OutRequestNo != d.SettleRefund {
			return fmt.Errorf("store: settle refund %s: not the refund read with order %s", d.SettleRefund, o.OutTradeNo)
		}
		if err := settleRefundTx(ctx, tx, o, r, now); err != nil {
			return err
		}
	}
	if d.Review != "" {
		if _, err := tx.ExecContext(ctx, flagOrderSQL, d.Review, now.UnixMilli(), o.ID); err != nil {
			return fmt.Errorf("store: flag order %s: %w", o.OutTradeNo, err)
		}
	}
	return nil
}

// nullStatus is an HTTP status for a nullable column: 0 (none) is NULL.
func nullStatus(code int) sql.NullInt64 {
	return sql.NullInt64{Int64: int64(code), Valid: code != 0}
}

// PruneInbound deletes stored inbound messages: unverified ones received
// before unverifiedBefore, verified ones last seen before verifiedBefore
// (zero times keep them), and the oldest unverified ones beyond the newest
// maxUnverified (0: no cap). It returns how many rows it deleted.
func (db *DB) PruneInbound(ctx context.Context, unverifiedBefore, verifiedBefore time.Time, maxUnverified int) (int64, error) {
	type del struct {
		q   string
		arg any
	}
	var dels []del
	if maxUnverified > 0 {
		dels = append(dels, del{`DELETE FROM notifications WHERE NOT verified AND id <= (SELECT id FROM notifications WHERE NOT verified
			ORDER BY id DESC LIMIT 1 OFFSET $1)`, maxUnverified})
	}
	if !unverifiedBefore.IsZero() {
		dels = append(dels, del{`DELETE FROM notifications WHERE NOT verified AND received_at < $1`, unverifiedBefore.UnixMilli()})
	}
	if !verifiedBefore.IsZero() {
		dels = append(dels, del{`DELETE FROM notifications WHERE verified AND COALESCE(
			(SELECT r.last_seen_at FROM message_repeats r WHERE r.body_hash = notifications.body_hash), last_seen_at, received_at) < $1`,
			verifiedBefore.UnixMilli()})
	}
	var total int64
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		total = 0
		for _, d := range dels {
			res, err := tx.ExecContext(ctx, d.q, d.arg)
			if err != nil {
				return fmt.Errorf("store: prune messages: %w", err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		if !verifiedBefore.IsZero() {
			if _, err := tx.ExecContext(ctx, `DELETE FROM message_repeats
				WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.body_hash = message_repeats.body_hash)`); err != nil {
				return fmt.Errorf("store: prune message counts: %w", err)
			}
		}
		return nil
	})
	return total, err
}

// Notification is a stored inbound message, for the admin and tests.
type Notification struct {
	ID          int64
	Source      string
	ReceivedAt  time.Time
	TimesSeen   int64     // how often this (verified) message arrived
	LastSeenAt  time.Time // when it last arrived
	RemoteAddr  string
	Method      string
	Body        []byte
	API         alipay.API  // an answer's protocol, "" for notifications and returns
	StatusCode  int         // an answer's HTTP status, 0 when none is stored
	Header      http.Header // an answer's signature headers (shop.AnswerHeader), nil when none
	Verified    bool
	NotifyID    string
	OutTradeNo  string
	TradeStatus string
	Outcome     shop.Outcome
	Detail      string
	// SettledRefund is the out_request_no of the refund this message
	// settled (Decision.SettleRefund), "" when it settled none.
	SettledRefund string
}

// Notifications lists stored messages, oldest first, after id afterID.
func (db *DB) Notifications(ctx context.Context, afterID int64, limit int) ([]Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.r.QueryContext(ctx, `SELECT n.id, n.source, n.received_at, n.remote_addr, n.method, n.body, n.verified,
		n.notify_id, n.out_trade_no, n.trade_status, n.outcome, n.detail, n.times_seen + COALESCE(r.times_seen, 0),
		COALESCE(r.last_seen_at, n.last_seen_at, n.received_at), n.api, n.http_status, n.headers, n.settled_refund
		FROM notifications n LEFT JOIN message_repeats r ON r.body_hash = n.body_hash
		WHERE n.id > $1 ORDER BY n.id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var at, last int64
		var nid, otn, ts, api, headers, settled sql.NullString
		var status sql.NullInt64
		var outcome string
		if err := rows.Scan(&n.ID, &n.Source, &at, &n.RemoteAddr, &n.Method, &n.Body, &n.Verified, &nid, &otn, &ts, &outcome, &n.Detail,
			&n.TimesSeen, &last, &api, &status, &headers, &settled); err != nil {
			return nil, fmt.Errorf("store: notifications: %w", err)
		}
		h, err := shop.ParseHeaderText(headers.String)
		if err != nil {
			return nil, fmt.Errorf("store: notification %d: %w", n.ID, err)
		}
		n.API, n.StatusCode, n.Header, n.SettledRefund = alipay.API(api.String), int(status.Int64), h, settled.String
		n.LastSeenAt = time.UnixMilli(last)
		n.ReceivedAt, n.NotifyID, n.OutTradeNo, n.TradeStatus, n.Outcome = time.UnixMilli(at), nid.String, otn.String, ts.String, shop.Outcome(outcome)
		out = append(out, n)
	}
	return out, rows.Err()
}
