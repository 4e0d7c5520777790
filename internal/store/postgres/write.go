package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"alishop/internal/shop"
	"alishop/internal/store/sqlstore"
)

// Writes. Each write is a transaction of its own on the pool, run again
// from the start after a deadlock or a serialization failure; a caller
// that goes away never leaves a commit of unknown outcome.
//
// Group commit. The shop's hottest write is Receive (every notification,
// return and query answer). A few receivers each take every Receive
// waiting (up to maxBatch) and run them as one transaction in two round
// trips (three when a count is needed) on one connection, with pgx
// pipelining:
//
//  1. BEGIN and one SELECT … FOR UPDATE of every order the batch names,
//     locked in id order (so two batches, in this process or another,
//     never wait for each other in a cycle); then, only when a decision
//     that changes nothing is made (its message is kept whole only while
//     its order keeps fewer than shop.MaxMessagesPerOrder), a count of
//     those orders' messages, read once the rows are locked;
//  2. each job's decision (made in Go on its locked order) carried out by
//     sqlstore.Apply as batchChanges: every payment (with the payer's user
//     id) and every message recorded by one statement over arrays
//     (writeBatchSQL), closes and review flags one statement each; sent
//     at once with the COMMIT, results read after. Each compare-and-set
//     is checked by the server: a statement that changed fewer rows than
//     it must fails (checked, writeBatchSQL), so the server skips the rest
//     of the pipeline, COMMIT included, and the transaction is rolled
//     back.
//
// Most of what a batch costs the server (and the shop) is per batch, not
// per message: its statements' executor start-up, its round trips (each
// wakes a server process) and its commit. So the receivers are as few as
// keep the work moving: as many as the shop's cores, at least two, so
// that while one batch waits for its commit the next one locks and
// decides, and every Receive that arrives meanwhile joins it. More
// receivers only make more, smaller batches. The statements are prepared
// once per connection (pgx's statement cache) and the server soon runs
// them with a generic plan made once, whatever the tables' statistics
// are then: they are written so that such a plan finds rows by id or
// out_trade_no (see writeBatchSQL and countMessagesSQL).
//
// A caller gets its decision only after the COMMIT returned, so "success"
// to Alipay still means "on disk" (synchronous_commit stays the server's).
// What the batch does not do is left to a transaction of its own (Write,
// with sqlstore's ReceiveTx), after the batch committed and with a fresh
// read and decision: a message about a refund (it reads the refund with
// the order, and settling it is several statements that depend on each
// other's results), a message that changes nothing of an order that
// already keeps shop.MaxMessagesPerOrder messages (it may be only
// counted), a second job for an order already in the batch, and a second
// copy of a message already in it. A batch that fails as a whole
// for a reason other than a deadlock or a serialization failure is run job
// by job, so that one bad message fails alone.

const maxBatch = 128

// writer runs writes on the pool and counts those in flight, so that
// Close waits for them.
type writer struct {
	pool     *sql.DB
	closing  sync.RWMutex // guards closed
	closed   bool
	inflight sync.WaitGroup
	// the receivers and the checkout workers (checkout.go)
	recv     chan *recvJob
	checkout chan *checkoutJob
	recvStop chan struct{}
	recvDone sync.WaitGroup
}

func startWriter(pool *sql.DB) *writer { return &writer{pool: pool} }

// enter counts a write in flight, or refuses it once the database closes.
func (wr *writer) enter() error {
	wr.closing.RLock()
	defer wr.closing.RUnlock()
	if wr.closed {
		return sqlstore.ErrClosed
	}
	wr.inflight.Add(1)
	return nil
}

// stop refuses new writes, waits for those in flight, then stops the
// receivers.
func (wr *writer) stop() {
	wr.closing.Lock() // waits for writes being started; no new ones after
	wr.closed = true
	wr.closing.Unlock()
	wr.inflight.Wait()
	if wr.recvStop != nil {
		close(wr.recvStop)
		wr.recvDone.Wait()
		wr.recvStop = nil
	}
}

// Write implements sqlstore.Writer: fn runs in a transaction of its own.
func (wr *writer) Write(ctx context.Context, fn func(ctx context.Context, tx *sqlstore.Tx) error) error {
	if err := wr.enter(); err != nil {
		return err
	}
	defer wr.inflight.Done()
	return wr.retryTx(ctx, fn)
}

// retryTx runs fn in a transaction and commits it; a transaction the
// server rolled back as a serialization failure or a deadlock is run
// again. The transaction runs on a context that is never cancelled (fn
// gets it); ctx only stops retries.
func (wr *writer) retryTx(ctx context.Context, fn func(ctx context.Context, tx *sqlstore.Tx) error) error {
	bg := context.WithoutCancel(ctx)
	const attempts = 5
	var err error
	for i := 0; i < attempts; i++ {
		if err = ctx.Err(); err != nil && i > 0 {
			return err
		}
		err = wr.runTx(bg, fn)
		if !isRetryable(err) {
			return err
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
	return err
}

func (wr *writer) runTx(ctx context.Context, fn func(ctx context.Context, tx *sqlstore.Tx) error) error {
	tx, err := wr.pool.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(ctx, sqlstore.NewTx(tx, nil)); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

type recvJob struct {
	m      *shop.Inbound
	decide shop.Decide
	hash   string // body_hash of the message ("" when unverified)
	d      shop.Decision
	err    error
	done   chan struct{}
}

// receivers is how many batches run at once, each on its own connection
// (the pool keeps others for everything else; see Open).
func receivers() int { return max(2, runtime.GOMAXPROCS(0)) }

func (db *DB) startReceivers() {
	wr := db.wr
	wr.recv = make(chan *recvJob, maxBatch)
	wr.recvStop = make(chan struct{})
	startBatchers(wr, receivers(), wr.recv, db.receiveBatch)
}

// startBatchers starts n goroutines that each take a batch of the jobs
// waiting in ch (batchFrom) and run it, until the writer stops.
func startBatchers[J any](wr *writer, n int, ch <-chan J, run func([]J)) {
	wr.recvDone.Add(n)
	for range n {
		go func() {
			defer wr.recvDone.Done()
			for {
				select {
				case j := <-ch:
					run(batchFrom(j, ch))
				case <-wr.recvStop:
					return
				}
			}
		}()
	}
}

// batchFrom is a batch of first and every job waiting in ch, up to
// maxBatch. It yields once before taking them, so that a batch fills up
// while the CPU is busy.
func batchFrom[J any](first J, ch <-chan J) []J {
	batch := []J{first}
	runtime.Gosched()
	for len(batch) < maxBatch {
		select {
		case j := <-ch:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

// Receive implements shop.Store: the message joins a receiver's batch,
// and Receive waits for its outcome whatever ctx does once it is queued
// (a caller must never report a failure that was in fact committed).
// decide may be called more than once (the transaction ran again); only
// the decision returned was applied.
func (db *DB) Receive(ctx context.Context, m *shop.Inbound, decide shop.Decide) (shop.Decision, error) {
	if err := db.wr.enter(); err != nil {
		return shop.Decision{}, err
	}
	defer db.wr.inflight.Done()
	j := &recvJob{m: m, decide: decide, done: make(chan struct{})}
	select {
	case db.wr.recv <- j:
	case <-ctx.Done():
		return shop.Decision{}, ctx.Err()
	}
	<-j.done
	return j.d, j.err
}

// receiveBatch runs a batch and gives every job its result.
func (db *DB) receiveBatch(batch []*recvJob) {
	ctx := context.Background()
	var now, alone []*recvJob
	seen := map[string]bool{}
	for _, j := range batch {
		if j.m.OutRequestNo != "" {
			alone = append(alone, j) // reads its refund too
			continue
		}
		// One job per order, and per stored message: the same message
		// twice in one INSERT … ON CONFLICT would touch its row twice.
		j.hash = sqlstore.BodyHash(j.m)
		no, hash := j.m.OutTradeNo, j.hash
		if (no != "" && seen["o"+no]) || (hash != "" && seen["h"+hash]) {
			alone = append(alone, j)
			continue
		}
		if no != "" {
			seen["o"+no] = true
		}
		if hash != "" {
			seen["h"+hash] = true
		}
		now = append(now, j)
	}
	for i := 0; ; i++ {
		rest, err := db.tryReceiveBatch(ctx, now)
		if err == nil {
			left := map[*recvJob]bool{}
			for _, j := range rest {
				left[j] = true
			}
			for _, j := range now {
				if !left[j] {
					close(j.done)
				}
			}
			alone = append(alone, rest...)
			break
		}
		if !isRetryable(err) || i == 4 {
			// Not the batch's fault as a whole, or retried enough: each
			// job on its own, so that one bad message fails alone.
			alone = append(alone, now...)
			break
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
	for _, j := range alone {
		err := db.wr.retryTx(ctx, func(ctx context.Context, tx *sqlstore.Tx) error {
			var err error
			j.d, err = db.ReceiveTx(ctx, tx, j.m, j.decide)
			return err
		})
		if err != nil {
			j.d, j.err = shop.Decision{}, err
		}
		close(j.done)
	}
}

// checked makes write, an UPDATE that must change exactly want rows (a
// compare-and-set; want is a number or a parameter such as "$7::bigint"),
// fail in the server when it changed another number: the CASE turns a
// wrong count into text that is no integer, and the error names it
// (invalid input syntax for type bigint: "pay orders: 3 of 4 rows changed").
// A failed statement makes the server skip the rest of the pipeline, the
// COMMIT included.
func checked(write, want, what string) string {
	return "WITH w AS (" + write + " RETURNING 1) SELECT CASE WHEN COUNT(*) = " + want +
		" THEN COUNT(*) ELSE ('" + what + ": ' || COUNT(*) || ' of ' || " + want + " || ' rows changed')::bigint END FROM w"
}

// Checked forms of the compare-and-sets a batch sends as statements of
// their own before its COMMIT.
var (
	closeOrderCheckedSQL     = checked(sqlstore.CloseOrderSQL, "1", "close order")
	payClosedOrderCheckedSQL = checked(sqlstore.PayClosedOrderSQL, "1", "pay closed order")
)

// countMessagesSQL counts the verified messages kept of each order named.
// The count is the aggregate's, not the WHERE clause's, so the server
// finds the rows by out_trade_no alone (an index on verified would match
// nearly every row).
const countMessagesSQL = "SELECT out_trade_no, COUNT(*) FILTER (WHERE verified) FROM notifications WHERE out_trade_no = ANY($1) GROUP BY out_trade_no"

// writeBatchSQL is a batch's payments and messages in one statement.
//
// paid pays many unpaid orders at once, one array per column ($1–$7),
// each getting the payer's user id ($7, NULL for none) unless it has one
// (as sqlstore's SetBuyerSQL does). The orders are found by id; the
// compare-and-set on status is written as a filter that no index can
// serve ("IS TRUE"), so that the planner never reads the orders through
// (status, created_at), which holds every unpaid order (and, until a
// vacuum, an entry for every row version that was unpaid) rather than
// the few named. The plan is made once per connection (a prepared
// statement's generic plan), when the table's size may say little.
//
// stored records many messages at once ($8–$23), in the order of the
// arrays, and counted counts each that is stored already (as sqlstore's
// countRepeatSQL does). No two of them may have the same body_hash
// (receiveBatch keeps such a job for a transaction of its own).
//
// The statement fails (as checked does) unless exactly $24 orders were
// paid and every one of the $25 messages was stored or counted.
const writeBatchSQL = `WITH paid AS (UPDATE orders AS o SET status = 'paid', trade_no = p.trade_no, buyer_logon_id = p.buyer, paid_at = p.paid_at,
		paid_via = p.via, updated_at = p.at,
		buyer_user_id = CASE WHEN o.buyer_user_id = '' THEN COALESCE(p.buyer_user, '') ELSE o.buyer_user_id END
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[]) AS p(id, trade_no, buyer, paid_at, via, at, buyer_user)
		WHERE o.id = p.id AND (o.status = 'unpaid') IS TRUE RETURNING 1),
	u AS (SELECT * FROM unnest($8::text[], $9::bigint[], $10::text[], $11::text[], $12::bytea[], $13::boolean[],
		$14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::integer[], $22::text[], $23::text[])
		WITH ORDINALITY AS u(source, received_at, remote_addr, method, body, verified, notify_id, out_trade_no, trade_status, outcome, detail,
		body_hash, api, http_status, headers, settled_refund, i)),
	stored AS (INSERT INTO notifications
		(source, received_at, remote_addr, method, body, verified, notify_id, out_trade_no, trade_status, outcome, detail,
		 body_hash, api, http_status, headers, settled_refund, last_seen_at)
		SELECT source, received_at, remote_addr, method, body, verified, notify_id, out_trade_no, trade_status, outcome, detail,
			body_hash, api, http_status, headers, settled_refund, received_at FROM u ORDER BY i
		ON CONFLICT (body_hash) DO NOTHING RETURNING body_hash),
	counted AS (INSERT INTO message_repeats (body_hash, times_seen, last_seen_at)
		SELECT body_hash, 1, received_at FROM u
		WHERE body_hash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM stored WHERE stored.body_hash = u.body_hash)
		ON CONFLICT (body_hash) DO UPDATE SET times_seen = message_repeats.times_seen + 1, last_seen_at = excluded.last_seen_at
		RETURNING 1)
	SELECT CASE
		WHEN c.paid <> $24::bigint THEN ('pay orders: ' || c.paid || ' of ' || $24::bigint || ' rows changed')::bigint
		WHEN c.kept <> $25::bigint THEN ('record messages: ' || c.kept || ' of ' || $25::bigint || ' stored or counted')::bigint
		ELSE c.kept END
	FROM (SELECT (SELECT COUNT(*) FROM paid) AS paid, (SELECT COUNT(*) FROM stored) + (SELECT COUNT(*) FROM counted) AS kept OFFSET 0) AS c`

// batchChanges are sqlstore.Changes gathered for one pipelined batch:
// payments and messages as the columns of one statement (writeBatchSQL),
// closes, review flags and payments of closed orders as statements of
// their own.
type batchChanges struct {
	b       *pgx.Batch
	singles []string // what each single statement is, for errors
	pay     struct {
		id, at         []int64
		tradeNo, buyer []*string
		buyerUser      []*string
		paidAt         []*int64
		via            []string
	}
	msgs struct {
		source, remote, method, outcome, detail []string
		at                                      []int64
		body                                    [][]byte
		verified                                []bool
		notifyID, outTradeNo, tradeStatus       []*string
		bodyHash, api, headers, settled         []*string
		status                                  []*int32
	}
}

// nullable is "" as NULL for pgx arrays.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (c *batchChanges) Pay(o *shop.Order, p *shop.Payment, at time.Time) error {
	if o.Status == shop.StatusClosed {
		// Rare (a payment kept after the close): statements of its own.
		c.b.Queue(payClosedOrderCheckedSQL, nullable(p.TradeNo), nullable(p.BuyerLogonID), sqlNullMS(p.PaidAt), p.Via, at.UnixMilli(), o.ID)
		c.b.Queue(sqlstore.RetakeStockSQL, o.Quantity, o.GoodsID)
		c.singles = append(c.singles, "pay closed order "+o.OutTradeNo, "")
		return nil
	}
	var paidAt *int64
	if !p.PaidAt.IsZero() {
		v := p.PaidAt.UnixMilli()
		paidAt = &v
	}
	r := &c.pay
	r.id, r.at = append(r.id, o.ID), append(r.at, at.UnixMilli())
	r.tradeNo, r.buyer = append(r.tradeNo, nullable(p.TradeNo)), append(r.buyer, nullable(p.BuyerLogonID))
	r.paidAt, r.via = append(r.paidAt, paidAt), append(r.via, p.Via)
	// Not a compare-and-set: an order keeps the buyer it has.
	r.buyerUser = append(r.buyerUser, nullable(p.BuyerUserID))
	return nil
}

func (c *batchChanges) Close(o *shop.Order, at time.Time) error {
	c.b.Queue(closeOrderCheckedSQL, at.UnixMilli(), o.ID)
	c.singles = append(c.singles, "close order "+o.OutTradeNo)
	if o.StockHeld > 0 {
		c.b.Queue(sqlstore.ReleaseStockSQL, o.StockHeld, o.GoodsID)
		c.singles = append(c.singles, "")
	}
	return nil
}

// sqlNullMS is a time for a nullable column of Unix milliseconds.
func sqlNullMS(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func (c *batchChanges) Flag(o *shop.Order, reason string, at time.Time) error {
	c.b.Queue(sqlstore.FlagOrderSQL, reason, at.UnixMilli(), o.ID)
	c.singles = append(c.singles, "flag order "+o.OutTradeNo)
	return nil
}

// SettleRefund is never asked of a batch: a message that names a refund
// runs in a transaction of its own (see receiveBatch).
func (c *batchChanges) SettleRefund(o *shop.Order, r *shop.Refund, _ time.Time) error {
	return fmt.Errorf("store: settle refund %s of order %s: not in a batch", r.OutRequestNo, o.OutTradeNo)
}

// Record gathers m as the columns of insertNotificationsSQL. A message
// that might be only counted beyond its order's cap never comes here (see
// receiveOn).
func (c *batchChanges) Record(m *shop.Inbound, d shop.Decision) error {
	body := m.Body
	if body == nil {
		body = []byte{}
	}
	r := &c.msgs
	r.source, r.at, r.remote, r.method = append(r.source, m.Source), append(r.at, m.ReceivedAt.UnixMilli()), append(r.remote, m.RemoteAddr), append(r.method, m.Method)
	r.body, r.verified = append(r.body, body), append(r.verified, m.Verified)
	r.notifyID, r.outTradeNo, r.tradeStatus = append(r.notifyID, nullable(m.NotifyID)), append(r.outTradeNo, nullable(m.OutTradeNo)), append(r.tradeStatus, nullable(m.TradeStatus))
	r.outcome, r.detail = append(r.outcome, string(d.Outcome)), append(r.detail, d.Detail)
	r.bodyHash = append(r.bodyHash, nullable(sqlstore.BodyHash(m)))
	r.api, r.headers = append(r.api, nullable(string(m.API))), append(r.headers, nullable(sqlstore.HeaderText(m.Header)))
	r.settled = append(r.settled, nullable(d.SettleRefund))
	var status *int32
	if m.StatusCode != 0 {
		v := int32(m.StatusCode)
		status = &v
	}
	r.status = append(r.status, status)
	return nil
}

// tryReceiveBatch runs jobs as one transaction. On success every job it
// applied has its decision set, and it returns the jobs left for a
// transaction of their own. On error nothing was committed.
func (db *DB) tryReceiveBatch(ctx context.Context, jobs []*recvJob) (rest []*recvJob, err error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	conn, err := db.pool.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: connection: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		var err error
		rest, err = receiveOn(ctx, c, jobs)
		if err != nil {
			// Leave the connection idle for the next user, or drop it.
			if _, rerr := c.Exec(ctx, "ROLLBACK"); rerr != nil || c.PgConn().TxStatus() != 'I' {
				c.Close(ctx)
			}
		}
		return err
	})
	return rest, err
}

// receiveOn is the batch's transaction on c (see the top of this file).
// It returns the jobs left for a transaction of their own.
func receiveOn(ctx context.Context, c *pgx.Conn, jobs []*recvJob) ([]*recvJob, error) {
	orders, err := lockOrders(ctx, c, jobs)
	if err != nil {
		return nil, err
	}
	// Decide on the locked orders. A message whose decision changes
	// nothing is kept whole only while its order keeps fewer than
	// shop.MaxMessagesPerOrder: those orders' messages are counted.
	ds := make([]shop.Decision, len(jobs))
	ords := make([]*shop.Order, len(jobs))
	var count []string
	for i, j := range jobs {
		if got, ok := orders[j.m.OutTradeNo]; ok {
			cp := *got
			ords[i] = &cp
		}
		ds[i] = j.decide(ords[i], nil)
		if j.hash != "" && j.m.OutTradeNo != "" && !shop.KeepMessage(ds[i], shop.MaxMessagesPerOrder) {
			count = append(count, j.m.OutTradeNo)
		}
	}
	kept, err := countMessages(ctx, c, count)
	if err != nil {
		return nil, err
	}
	// Apply; every job's changes join one pipelined batch.
	ch := &batchChanges{b: &pgx.Batch{}}
	var rest []*recvJob
	for i, j := range jobs {
		if j.hash != "" && j.m.OutTradeNo != "" && !shop.KeepMessage(ds[i], kept[j.m.OutTradeNo]) {
			// Maybe beyond its order's cap, to be only counted: that
			// takes a read of its own (sqlstore's Record).
			rest = append(rest, j)
			continue
		}
		if err := sqlstore.Apply(ch, j.m, ords[i], nil, ds[i]); err != nil {
			return nil, err
		}
		j.d = ds[i]
	}
	if len(ch.msgs.at) == 0 {
		// Every job is left for a transaction of its own: nothing to commit.
		_, err := c.Exec(ctx, "ROLLBACK")
		return rest, err
	}
	if err := ch.send(ctx, c); err != nil {
		return nil, err
	}
	return rest, nil
}

// lockOrders begins the transaction and locks every order the jobs name,
// in one round trip.
func lockOrders(ctx context.Context, c *pgx.Conn, jobs []*recvJob) (map[string]*shop.Order, error) {
	var nos []string
	for _, j := range jobs {
		if j.m.OutTradeNo != "" {
			nos = append(nos, j.m.OutTradeNo)
		}
	}
	orders := map[string]*shop.Order{}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if len(nos) > 0 {
		b.Queue(sqlstore.LockOrdersSQL, nos)
	}
	br := c.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	if len(nos) == 0 {
		return orders, br.Close()
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("store: lock orders: %w", err)
	}
	for rows.Next() {
		o, err := sqlstore.ScanOrder(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: lock orders: %w", err)
		}
		orders[o.OutTradeNo] = &o
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: lock orders: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("store: lock orders: %w", err)
	}
	return orders, nil
}

// countMessages counts the verified messages each of the orders nos keeps
// (shop.KeepMessage). It runs after lockOrders, so the count sees every
// message committed before the locks were granted.
func countMessages(ctx context.Context, c *pgx.Conn, nos []string) (map[string]int, error) {
	kept := map[string]int{}
	if len(nos) == 0 {
		return kept, nil
	}
	rows, err := c.Query(ctx, countMessagesSQL, nos)
	if err != nil {
		return nil, fmt.Errorf("store: count messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var no string
		var n int
		if err := rows.Scan(&no, &n); err != nil {
			return nil, fmt.Errorf("store: count messages: %w", err)
		}
		kept[no] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count messages: %w", err)
	}
	return kept, nil
}

// send runs the gathered changes and the COMMIT in one round trip. The
// server checks every compare-and-set (checked, writeBatchSQL); on an
// error nothing is committed and the transaction is left for the caller
// to roll back.
func (ch *batchChanges) send(ctx context.Context, c *pgx.Conn) error {
	b, pay, msgs := ch.b, &ch.pay, &ch.msgs
	b.Queue(writeBatchSQL, pay.id, pay.tradeNo, pay.buyer, pay.paidAt, pay.via, pay.at, pay.buyerUser,
		msgs.source, msgs.at, msgs.remote, msgs.method, msgs.body, msgs.verified,
		msgs.notifyID, msgs.outTradeNo, msgs.tradeStatus, msgs.outcome, msgs.detail, msgs.bodyHash, msgs.api, msgs.status, msgs.headers, msgs.settled,
		len(pay.id), len(msgs.at))
	b.Queue("COMMIT")
	br := c.SendBatch(ctx, b)
	defer br.Close()
	for _, what := range ch.singles {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("store: write batch: %w", err)
	}
	tag, err := br.Exec()
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if tag.String() != "COMMIT" {
		return errors.New("store: commit: the transaction was rolled back")
	}
	return br.Close()
}
