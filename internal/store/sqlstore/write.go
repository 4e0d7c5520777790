package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"alishop/alipay"
	"alishop/internal/shop"
)

// Writes. A backend runs every write through its Writer, which commits it
// the backend's way (SQLite: many writes in one transaction; PostgreSQL:
// each in its own) and hands the write a Tx. The hottest write is a
// message about a payment: inside the transaction that stores it, the
// order (and the refund the message names) is read, the domain decides,
// Apply turns the decision into row changes by compare-and-set, and the
// message is recorded with its outcome. ReceiveTx is that work on one Tx;
// PostgreSQL's batches (package postgres) read and decide the same way and
// hand their own Changes to the same Apply.

// A Writer runs fn in a write transaction and returns once that
// transaction is committed, or fn's error. fn must use only tx and the
// context it is given (the writer's own, never cancelled: a caller that
// goes away cannot undo another's write); ctx only bounds the wait for a
// place. fn may run more than once (its transaction ran again), so it must
// set its results afresh on every run.
type Writer interface {
	Write(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error
}

// Tx is a write transaction, with the statements the backend prepared on
// its connection.
type Tx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

// NewTx wraps tx; stmts are statements prepared on tx's connection, by
// their text (nil for none).
func NewTx(tx *sql.Tx, stmts map[string]*sql.Stmt) *Tx { return &Tx{Tx: tx, stmts: stmts} }

// Exec runs query, prepared when it is one of the prepared statements.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := tx.stmts[query]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// QueryRow runs query, prepared when it is one of the prepared statements.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := tx.stmts[query]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// HotStatements are the statements of the hottest writes (checkout and
// Receive), worth preparing once on a connection that lives as long as
// the database is open.
var HotStatements = []string{insertOrderSQL, reserveStockSQL, selectOrderSQL, insertNotificationSQL, payOrderSQL}

const orderColumns = `id, out_trade_no, goods_id, subject, amount_fen, status, trade_no, buyer_logon_id, paid_via,
	refunded_fen, needs_review, review_reason, created_at, updated_at, time_expire, paid_at, closed_at,
	quantity, shipping, receiver_name, receiver_phone, receiver_address,
	fulfilment, carrier, tracking_no, shipped_at, completed_at, stock_held, channel, pos_note`

// The statements of the hottest writes (see HotStatements).
const (
	// The order copies the goods' name and price × quantity ($6), if the
	// goods are on sale, within Alipay's largest amount, and counted in
	// stock exactly when the order holds some ($10, reserved by
	// reserveStockSQL before); shipping ($11) is as the domain decided it
	// from the goods it checked the receiver against.
	insertOrderSQL = `INSERT INTO orders (out_trade_no, goods_id, subject, amount_fen, status, created_at, updated_at, time_expire,
			quantity, receiver_name, receiver_phone, receiver_address, shipping, stock_held)
			SELECT $1, id, name, price_fen * $6, 'unpaid', $2, $3, $4, $6, $7, $8, $9, $11, $10 FROM goods
			WHERE id = $5 AND NOT hidden AND price_fen * $6 <= 10000000000 AND (stock IS NULL) = ($10 = 0)
			RETURNING id, subject, amount_fen`
	// reserveStockSQL takes $1 of the stock of goods $2 by compare-and-set:
	// it changes no row when fewer are left (or the stock is not counted).
	// Several processes on one PostgreSQL: the row lock makes a second
	// checkout wait, then check the stock the first one left.
	reserveStockSQL = `UPDATE goods SET stock = stock - $1 WHERE id = $2 AND NOT hidden AND stock IS NOT NULL AND stock >= $1`
	selectOrderSQL  = "SELECT " + orderColumns + " FROM orders WHERE out_trade_no = $1"
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

// CloseOrderSQL closes an unpaid order ($2) at $1; the stock it held is
// given back by ReleaseStockSQL in the same transaction.
const CloseOrderSQL = `UPDATE orders SET status = 'closed', closed_at = $1, updated_at = $1, stock_held = 0 WHERE id = $2 AND status = 'unpaid'`

// ReleaseStockSQL gives $1 back to the stock of goods $2 (if it is still
// counted).
const ReleaseStockSQL = `UPDATE goods SET stock = stock + $1 WHERE id = $2 AND stock IS NOT NULL`

// PayClosedOrderSQL pays an order ($6) that was closed (its stock given
// back): the payment arrived after the close and is kept. The order holds
// its quantity of the goods' stock again when the stock is counted; the
// stock is taken by RetakeStockSQL in the same transaction.
const PayClosedOrderSQL = `UPDATE orders SET status = 'paid', trade_no = $1, buyer_logon_id = $2, paid_at = $3, paid_via = $4, updated_at = $5,
	stock_held = CASE WHEN (SELECT stock FROM goods WHERE goods.id = orders.goods_id) IS NULL THEN 0 ELSE quantity END
	WHERE id = $6 AND status = 'closed'`

// RetakeStockSQL takes $1 of the stock of goods $2 whatever is left: the
// one way the stock goes below zero (a payment kept after the close).
const RetakeStockSQL = `UPDATE goods SET stock = stock - $1 WHERE id = $2 AND stock IS NOT NULL`

// FlagOrderSQL sets an order's ($3) review flag with a reason ($1) at $2.
const FlagOrderSQL = `UPDATE orders SET needs_review = TRUE, review_reason = $1, updated_at = $2 WHERE id = $3`

// LockOrdersSQL reads the orders whose numbers are in the array $1, locked
// in id order (PostgreSQL).
const LockOrdersSQL = "SELECT " + orderColumns + " FROM orders WHERE out_trade_no = ANY($1) ORDER BY id FOR UPDATE"

// ScanOrder reads a row of orderColumns.
func ScanOrder(row interface{ Scan(...any) error }) (shop.Order, error) {
	var o shop.Order
	var amount, refunded int64
	var status, channel string
	var tradeNo, buyer, via, reason sql.NullString
	var created, updated, expire, paid, closed, shipped, completed sql.NullInt64
	var quantity int64
	var fulfilment string
	err := row.Scan(&o.ID, &o.OutTradeNo, &o.GoodsID, &o.Subject, &amount, &status, &tradeNo, &buyer, &via,
		&refunded, &o.NeedsReview, &reason, &created, &updated, &expire, &paid, &closed,
		&quantity, &o.Shipping, &o.Receiver.Name, &o.Receiver.Phone, &o.Receiver.Address,
		&fulfilment, &o.Carrier, &o.TrackingNo, &shipped, &completed, &o.StockHeld, &channel, &o.POSNote)
	if err != nil {
		return o, err
	}
	o.Quantity, o.Fulfilment = int(quantity), shop.Fulfilment(fulfilment)
	o.ShippedAt, o.CompletedAt = fromMS(shipped), fromMS(completed)
	o.Amount, o.RefundedFen, o.Status, o.Channel = alipay.Amount(amount), alipay.Amount(refunded), shop.Status(status), shop.OrderChannel(channel)
	o.TradeNo, o.BuyerLogonID, o.PaidVia, o.ReviewReason = tradeNo.String, buyer.String, via.String, reason.String
	o.CreatedAt, o.UpdatedAt, o.TimeExpire, o.PaidAt, o.ClosedAt = fromMS(created), fromMS(updated), fromMS(expire), fromMS(paid), fromMS(closed)
	return o, nil
}

const refundColumns = `r.id, r.order_id, o.out_trade_no, r.out_request_no, r.amount_fen, r.reason, r.status, r.last_error,
	r.created_at, r.updated_at, r.settled_at`

func scanRefund(row interface{ Scan(...any) error }) (shop.Refund, error) {
	var r shop.Refund
	var amount, created, updated int64
	var settled sql.NullInt64
	var status string
	err := row.Scan(&r.ID, &r.OrderID, &r.OutTradeNo, &r.OutRequestNo, &amount, &r.Reason, &status, &r.LastError, &created, &updated, &settled)
	r.Amount, r.Status = alipay.Amount(amount), shop.RefundStatus(status)
	r.CreatedAt, r.UpdatedAt, r.SettledAt = time.UnixMilli(created), time.UnixMilli(updated), fromMS(settled)
	return r, err
}

// orderTx reads an order inside a write transaction, locked until the
// transaction ends where the database has row locks, so that what is
// decided from it still holds when the decision is applied, whichever
// process decides.
func (db *DB) orderTx(ctx context.Context, tx *Tx, outTradeNo string) (shop.Order, error) {
	o, err := ScanOrder(tx.QueryRow(ctx, db.lockOrderSQL, outTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return o, shop.ErrOrderNotFound
	}
	if err != nil {
		return o, fmt.Errorf("store: order: %w", err)
	}
	return o, nil
}

// ReceiveTx is shop.Store's Receive inside the write transaction tx: it
// reads the order m names (and the refund, when m names one), lets decide
// choose, applies the decision and records m with its outcome.
func (db *DB) ReceiveTx(ctx context.Context, tx *Tx, m *shop.Inbound, decide shop.Decide) (shop.Decision, error) {
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
	if err := Apply(txChanges{ctx, tx}, m, o, r, d); err != nil {
		return shop.Decision{}, err
	}
	return d, nil
}

// refundTx reads the refund outRequestNo of the order orderID inside a write
// transaction (the order's row is locked), or nil when it has none.
func refundTx(ctx context.Context, tx *Tx, orderID int64, outRequestNo string) (*shop.Refund, error) {
	r, err := scanRefund(tx.QueryRowContext(ctx, "SELECT "+refundColumns+
		" FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.order_id = $1 AND r.out_request_no = $2", orderID, outRequestNo))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: refund %s: %w", outRequestNo, err)
	}
	return &r, nil
}

// Changes are the row changes a decision can make, carried out by
// compare-and-set, each as its backend batches them: one transaction's
// statements (txChanges) or PostgreSQL's pipelined batch. A change that
// finds its row not as read must fail (the transaction then commits
// nothing), never report success.
type Changes interface {
	// Pay moves order o to paid with payment p: from unpaid, or from
	// closed (a payment after the close, kept), when o is closed, which
	// takes its goods from the stock again.
	Pay(o *shop.Order, p *shop.Payment, at time.Time) error
	// Close moves unpaid order o to closed and gives the stock it holds
	// back.
	Close(o *shop.Order, at time.Time) error
	// SettleRefund moves pending refund r of o to succeeded and adds its
	// amount to o, never past what was paid.
	SettleRefund(o *shop.Order, r *shop.Refund, at time.Time) error
	// Flag marks o for a person to look at, with a reason.
	Flag(o *shop.Order, reason string, at time.Time) error
	// Record stores m with what d made of it (its outcome, detail and
	// the refund it settled), or counts it when it is stored already.
	Record(m *shop.Inbound, d shop.Decision) error
}

// Apply carries out decision d about message m, its order o (nil: none)
// and the refund r read with it, as c's changes, and records m: the one
// place where a decision becomes changes. It changes nothing of d.
func Apply(c Changes, m *shop.Inbound, o *shop.Order, r *shop.Refund, d shop.Decision) error {
	at := m.ReceivedAt
	if o != nil {
		var err error
		switch {
		case d.Pay != nil:
			err = c.Pay(o, d.Pay, at)
		case d.Close:
			err = c.Close(o, at)
		}
		if err != nil {
			return err
		}
		if d.SettleRefund != "" {
			if r == nil || r.OutRequestNo != d.SettleRefund {
				return fmt.Errorf("store: settle refund %s: not the refund read with order %s", d.SettleRefund, o.OutTradeNo)
			}
			if err := c.SettleRefund(o, r, at); err != nil {
				return err
			}
		}
		if d.Review != "" {
			if err := c.Flag(o, d.Review, at); err != nil {
				return err
			}
		}
	}
	return c.Record(m, d)
}

// txChanges are Changes made by statements on one transaction.
type txChanges struct {
	ctx context.Context
	tx  *Tx
}

// changedOne fails unless res changed a row: inside the transaction that
// read the row (SQLite's one writer, PostgreSQL's row lock) that means it
// moved since, and a change must be refused rather than reported.
func changedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: %s: changed concurrently", what)
	}
	return nil
}

func (c txChanges) Pay(o *shop.Order, p *shop.Payment, at time.Time) error {
	if o.Status == shop.StatusClosed {
		res, err := c.tx.ExecContext(c.ctx, PayClosedOrderSQL, nullString(p.TradeNo), nullString(p.BuyerLogonID), ms(p.PaidAt), p.Via, at.UnixMilli(), o.ID)
		if err := changedOne(res, err, "pay closed order "+o.OutTradeNo); err != nil {
			return err
		}
		if _, err := c.tx.ExecContext(c.ctx, RetakeStockSQL, o.Quantity, o.GoodsID); err != nil {
			return fmt.Errorf("store: stock of order %s: %w", o.OutTradeNo, err)
		}
		return nil
	}
	res, err := c.tx.Exec(c.ctx, payOrderSQL, nullString(p.TradeNo), nullString(p.BuyerLogonID), ms(p.PaidAt), p.Via, at.UnixMilli(), o.ID)
	if err := changedOne(res, err, "pay order "+o.OutTradeNo); err != nil {
		return err
	}
	if p.BuyerUserID != "" {
		if _, err := c.tx.ExecContext(c.ctx, SetBuyerSQL, p.BuyerUserID, o.ID); err != nil {
			return fmt.Errorf("store: buyer of order %s: %w", o.OutTradeNo, err)
		}
	}
	return nil
}

func (c txChanges) Close(o *shop.Order, at time.Time) error {
	res, err := c.tx.ExecContext(c.ctx, CloseOrderSQL, at.UnixMilli(), o.ID)
	if err := changedOne(res, err, "close order "+o.OutTradeNo); err != nil {
		return err
	}
	if o.StockHeld > 0 {
		if _, err := c.tx.ExecContext(c.ctx, ReleaseStockSQL, o.StockHeld, o.GoodsID); err != nil {
			return fmt.Errorf("store: stock of order %s: %w", o.OutTradeNo, err)
		}
	}
	return nil
}

func (c txChanges) Flag(o *shop.Order, reason string, at time.Time) error {
	if _, err := c.tx.ExecContext(c.ctx, FlagOrderSQL, reason, at.UnixMilli(), o.ID); err != nil {
		return fmt.Errorf("store: flag order %s: %w", o.OutTradeNo, err)
	}
	return nil
}

// SettleRefund changes both rows by compare-and-set: the order's refunded
// total from what was read (never past what was paid), the refund from
// its state as read; the order becomes partially_refunded or refunded.
func (c txChanges) SettleRefund(o *shop.Order, r *shop.Refund, at time.Time) error {
	res, err := c.tx.ExecContext(c.ctx, `UPDATE orders SET refunded_fen = refunded_fen + $1,
		status = CASE WHEN refunded_fen + $1 = amount_fen THEN 'refunded' ELSE 'partially_refunded' END, updated_at = $2
		WHERE id = $3 AND refunded_fen = $4 AND status IN ('paid', 'partially_refunded') AND refunded_fen + $1 <= amount_fen`,
		int64(r.Amount), at.UnixMilli(), o.ID, int64(o.RefundedFen))
	if err := changedOne(res, err, "settle refund "+r.OutRequestNo+" of order "+o.OutTradeNo); err != nil {
		return err
	}
	res, err = c.tx.ExecContext(c.ctx, `UPDATE refunds SET status = 'succeeded', settled_at = $1, updated_at = $1, last_error = ''
		WHERE id = $2 AND status = $3`, at.UnixMilli(), r.ID, string(r.Status))
	return changedOne(res, err, "settle refund "+r.OutRequestNo)
}

// Record stores m, or counts it when a message with its body_hash is
// stored already. A verified message about an order that changes nothing
// of it is only counted, in one row per source and order, once the order
// keeps as many messages as shop.KeepMessage allows.
func (c txChanges) Record(m *shop.Inbound, d shop.Decision) error {
	body, hash, detail := m.Body, BodyHash(m), d.Detail
	if hash != "" && m.OutTradeNo != "" && !shop.KeepMessage(d, shop.MaxMessagesPerOrder) {
		over, err := c.overCap(m, hash, d)
		if err != nil {
			return err
		}
		if over {
			body, hash, detail = nil, overCapHash(m), overCapDetail(m, d)
		}
	}
	if body == nil {
		body = []byte{}
	}
	res, err := c.tx.Exec(c.ctx, insertNotificationSQL,
		m.Source, m.ReceivedAt.UnixMilli(), m.RemoteAddr, m.Method, body, m.Verified,
		nullString(m.NotifyID), nullString(m.OutTradeNo), nullString(m.TradeStatus), string(d.Outcome), detail,
		nullString(hash), nullString(string(m.API)), nullStatus(m.StatusCode), nullString(HeaderText(m.Header)),
		nullString(d.SettleRefund))
	if err != nil {
		return fmt.Errorf("store: record %s message: %w", m.Source, err)
	}
	if n, _ := res.RowsAffected(); n == 0 && hash != "" {
		if _, err := c.tx.Exec(c.ctx, countRepeatSQL, hash, m.ReceivedAt.UnixMilli()); err != nil {
			return fmt.Errorf("store: count %s message: %w", m.Source, err)
		}
	}
	return nil
}

// overCap reports whether the verified message m (body_hash hash) about an
// order, whose decision d changes nothing, is only to be counted: it is not
// stored yet and its order has as many kept messages as shop.KeepMessage
// allows.
func (c txChanges) overCap(m *shop.Inbound, hash string, d shop.Decision) (bool, error) {
	var kept int
	var stored bool
	err := c.tx.QueryRowContext(c.ctx, `SELECT (SELECT COUNT(*) FROM notifications WHERE out_trade_no = $1 AND verified),
		EXISTS (SELECT 1 FROM notifications WHERE body_hash = $2)`, m.OutTradeNo, hash).Scan(&kept, &stored)
	if err != nil {
		return false, fmt.Errorf("store: count messages of order %s: %w", m.OutTradeNo, err)
	}
	return !stored && !shop.KeepMessage(d, kept), nil
}

// overCapHash is the body_hash of the one row that counts the verified
// messages of m's source and order beyond the cap (times_seen).
func overCapHash(m *shop.Inbound) string { return "over-cap " + m.Source + " " + m.OutTradeNo }

// overCapDetail is the detail of that row, written by the first message
// it counts.
func overCapDetail(m *shop.Inbound, d shop.Decision) string {
	s := fmt.Sprintf("verified %s messages of this order beyond the %d kept are counted here (times seen), not stored; the first was %s",
		m.Source, shop.MaxMessagesPerOrder, d.Outcome)
	if d.Detail != "" {
		s += ": " + clip(d.Detail, maxErrorText)
	}
	return s
}

// nullStatus is an HTTP status for a nullable column: 0 (none) is NULL.
func nullStatus(code int) sql.NullInt64 {
	return sql.NullInt64{Int64: int64(code), Valid: code != 0}
}

// BodyHash identifies a verified message (the body_hash column): a SHA-256
// of its source and its Key (what its signature covers), or of its exact
// body when it has no Key. An unverified one gets "" (NULL), so it is
// never merged with another.
func BodyHash(m *shop.Inbound) string {
	if !m.Verified {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(m.Source))
	if m.Key != nil {
		h.Write([]byte{1})
		h.Write(m.Key)
	} else {
		h.Write([]byte{0})
		h.Write(m.Body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HeaderText is how an answer's headers are stored (the headers column):
// canonical "Name: value" lines in name order, one per value, each ending
// in a newline; "" for no headers. ParseHeaderText reads it back.
func HeaderText(h map[string][]string) string {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	canonical := textproto.CanonicalMIMEHeaderKey
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(canonical(a), canonical(b)) })
	var b strings.Builder
	for _, name := range names {
		for _, v := range h[name] {
			b.WriteString(canonical(name))
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
