package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"alishop/internal/shop"
)

// Group commit on PostgreSQL. The shop's hottest write is Receive (every
// notification, return and query answer). On PostgreSQL a few receivers
// each take every Receive waiting (up to maxBatch) and run them as one
// transaction in three round trips on one connection, with pgx pipelining:
//
//  1. BEGIN and one SELECT … FOR UPDATE of every order the batch names,
//     locked in id order (so two batches, in this process or another,
//     never wait for each other in a cycle);
//  2. each job's decision (made in Go on its locked order, as on the one
//     job path) applied by compare-and-set from unpaid, as there: every
//     payment by one UPDATE over arrays, closes and review flags one
//     statement each, and every message recorded by one INSERT over
//     arrays; all sent at once, results read after;
//  3. COMMIT, only if every compare-and-set changed its row.
//
// A caller gets its decision only after the COMMIT returned, so "success"
// to Alipay still means "on disk" (synchronous_commit stays the server's).
// What the batch path does not do is left to the one-job path (a
// transaction of its own, as writePostgres runs), after the batch committed
// and with a fresh read and decision: a message about a refund (it reads
// the refund with the order, and settling it is several statements that
// depend on each other's results), a message that changes nothing of an
// order that already keeps shop.MaxMessagesPerOrder messages (it may be
// only counted), a second job for an order already in the batch, and a
// second copy of a message already in it. A batch that
// fails as a whole for a reason other than a deadlock or a serialization
// failure is run job by job, so that one bad message fails alone.

type recvJob struct {
	m      *shop.Inbound
	decide shop.Decide
	hash   string // body_hash of the message ("" when unverified)
	d      shop.Decision
	err    error
	done   chan struct{}
}

// pgReceivers is how many batches run at once, each on its own connection.
func pgReceivers() int { return max(2, runtime.GOMAXPROCS(0)) }

func (db *DB) startReceivers() {
	db.recv = make(chan *recvJob, maxBatch)
	db.recvStop = make(chan struct{})
	n := pgReceivers()
	db.recvDone.Add(n)
	for range n {
		go db.receiver()
	}
}

// stopReceivers stops the receivers once every Receive started has its
// result (the caller has already refused new ones and waited for inflight).
func (db *DB) stopReceivers() {
	if db.recvStop == nil {
		return
	}
	close(db.recvStop)
	db.recvDone.Wait()
}

func (db *DB) receiver() {
	defer db.recvDone.Done()
	for {
		var j *recvJob
		select {
		case j = <-db.recv:
		case <-db.recvStop:
			return
		}
		batch := []*recvJob{j}
		runtime.Gosched()
	fill:
		for len(batch) < maxBatch {
			select {
			case j := <-db.recv:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		db.receiveBatch(batch)
	}
}

// receivePostgres queues one Receive for a receiver and waits for its
// outcome, whatever ctx does once it is queued (a caller must never report
// a failure that was in fact committed).
func (db *DB) receivePostgres(ctx context.Context, m *shop.Inbound, decide shop.Decide) (shop.Decision, error) {
	db.closing.RLock()
	if db.closed {
		db.closing.RUnlock()
		return shop.Decision{}, errClosed
	}
	db.inflight.Add(1)
	db.closing.RUnlock()
	defer db.inflight.Done()
	j := &recvJob{m: m, decide: decide, done: make(chan struct{})}
	select {
	case db.recv <- j:
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
		j.hash = bodyHash(j.m).String
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
		err := db.retryTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			var err error
			j.d, err = db.receiveTx(ctx, tx, j.m, j.decide)
			return err
		})
		if err != nil {
			j.d, j.err = shop.Decision{}, err
		}
		close(j.done)
	}
}

const lockOrdersSQL = "SELECT " + orderColumns + " FROM orders WHERE out_trade_no = ANY($1) ORDER BY id FOR UPDATE"

// countMessagesSQL counts the verified messages kept of each order named.
const countMessagesSQL = "SELECT out_trade_no, COUNT(*) FROM notifications WHERE out_trade_no = ANY($1) AND verified GROUP BY out_trade_no"

const closeOrderSQL = `UPDATE orders SET status = 'closed', closed_at = $1, updated_at = $1 WHERE id = $2 AND status = 'unpaid'`

const flagOrderSQL = `UPDATE orders SET needs_review = TRUE, review_reason = $1, updated_at = $2 WHERE id = $3`

// payOrdersSQL is payOrderSQL for many orders at once, one array per column.
const payOrdersSQL = `UPDATE orders AS o SET status = 'paid', trade_no = u.trade_no, buyer_logon_id = u.buyer, paid_at = u.paid_at,
	paid_via = u.via, updated_at = u.at
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[]) AS u(id, trade_no, buyer, paid_at, via, at)
	WHERE o.id = u.id AND o.status = 'unpaid'`

// insertNotificationsSQL is insertNotificationSQL for many messages at once,
// stored in the order of the arrays, with countRepeatSQL for each that is
// already stored; it answers how many it stored and how many it counted. No
// two of them may have the same body_hash (receiveBatch keeps such a job
// for the one-job path).
const insertNotificationsSQL = `WITH u AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bytea[], $6::boolean[],
		$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::integer[], $15::text[], $16::text[])
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
	SELECT (SELECT COUNT(*) FROM stored), (SELECT COUNT(*) FROM counted)`

// payRows are the columns of payOrdersSQL.
type payRows struct {
	id, at         []int64
	tradeNo, buyer []*string
	paidAt         []*int64
	via            []string
}

func (r *payRows) add(id int64, p *shop.Payment, at int64) {
	var paidAt *int64
	if !p.PaidAt.IsZero() {
		v := p.PaidAt.UnixMilli()
		paidAt = &v
	}
	r.id, r.at = append(r.id, id), append(r.at, at)
	r.tradeNo, r.buyer = append(r.tradeNo, nullable(p.TradeNo)), append(r.buyer, nullable(p.BuyerLogonID))
	r.paidAt, r.via = append(r.paidAt, paidAt), append(r.via, p.Via)
}

// msgRows are the columns of insertNotificationsSQL.
type msgRows struct {
	source, remote, method, outcome, detail []string
	at                                      []int64
	body                                    [][]byte
	verified                                []bool
	notifyID, outTradeNo, tradeStatus       []*string
	bodyHash, api, headers, settled         []*string
	status                                  []*int32
}

func (r *msgRows) add(m *shop.Inbound, d shop.Decision, at int64, hash string) {
	body := m.Body
	if body == nil {
		body = []byte{}
	}
	r.source, r.at, r.remote, r.method = append(r.source, m.Source), append(r.at, at), append(r.remote, m.RemoteAddr), append(r.method, m.Method)
	r.body, r.verified = append(r.body, body), append(r.verified, m.Verified)
	r.notifyID, r.outTradeNo, r.tradeStatus = append(r.notifyID, nullable(m.NotifyID)), append(r.outTradeNo, nullable(m.OutTradeNo)), append(r.tradeStatus, nullable(m.TradeStatus))
	r.outcome, r.detail = append(r.outcome, string(d.Outcome)), append(r.detail, d.Detail)
	r.bodyHash = append(r.bodyHash, nullable(hash))
	r.api, r.headers = append(r.api, nullable(string(m.API))), append(r.headers, nullable(shop.HeaderText(m.Header)))
	r.settled = append(r.settled, nullable(d.SettleRefund))
	var status *int32
	if m.StatusCode != 0 {
		v := int32(m.StatusCode)
		status = &v
	}
	r.status = append(r.status, status)
}

// nullable is nullString for pgx arrays: "" is NULL.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// tryReceiveBatch runs jobs as one transaction. On success every job it
// applied has its decision set, and it returns the jobs left to the one-job
// path. On error nothing was committed.
func (db *DB) tryReceiveBatch(ctx context.Context, jobs []*recvJob) (rest []*recvJob, err error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: connection: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
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
func receiveOn(ctx context.Context, c *pgx.Conn, jobs []*recvJob) ([]*recvJob, error) {
	// 1. Begin, and lock every order the batch names.
	var nos []string
	for _, j := range jobs {
		if j.m.OutTradeNo != "" {
			nos = append(nos, j.m.OutTradeNo)
		}
	}
	orders, kept := map[string]*shop.Order{}, map[string]int{}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if len(nos) > 0 {
		b.Queue(lockOrdersSQL, nos)
		b.Queue(countMessagesSQL, nos)
	}
	br := c.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	if len(nos) > 0 {
		rows, err := br.Query()
		if err != nil {
			br.Close()
			return nil, fmt.Errorf("store: lock orders: %w", err)
		}
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				rows.Close()
				br.Close()
				return nil, fmt.Errorf("store: lock orders: %w", err)
			}
			orders[o.OutTradeNo] = &o
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			br.Close()
			return nil, fmt.Errorf("store: lock orders: %w", err)
		}
		// How many verified messages each order keeps, read once its row
		// is locked (shop.KeepMessage).
		rows, err = br.Query()
		if err != nil {
			br.Close()
			return nil, fmt.Errorf("store: count messages: %w", err)
		}
		for rows.Next() {
			var no string
			var n int
			if err := rows.Scan(&no, &n); err != nil {
				rows.Close()
				br.Close()
				return nil, fmt.Errorf("store: count messages: %w", err)
			}
			kept[no] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			br.Close()
			return nil, fmt.Errorf("store: count messages: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("store: lock orders: %w", err)
	}

	// 2. Decide and apply; record each message. Payments (the common
	// change) and messages go in one statement each over arrays; closes
	// and review flags, which are rare, one statement each.
	var (
		pay     payRows
		msgs    msgRows
		singles []string // what each single statement is, for errors
		rest    []*recvJob
	)
	b = &pgx.Batch{}
	for _, j := range jobs {
		m := j.m
		var o *shop.Order
		if m.OutTradeNo != "" {
			if got, ok := orders[m.OutTradeNo]; ok {
				cp := *got
				o = &cp
			}
		}
		d := j.decide(o, nil)
		if o != nil && d.SettleRefund != "" || j.hash != "" && m.OutTradeNo != "" && !shop.KeepMessage(d, kept[m.OutTradeNo]) {
			// A refund to settle, or a message that may be over its
			// order's cap (see overCap): the one-job path.
			rest = append(rest, j)
			continue
		}
		at := m.ReceivedAt.UnixMilli()
		if o != nil {
			switch {
			case d.Pay != nil:
				pay.add(o.ID, d.Pay, at)
			case d.Close:
				b.Queue(closeOrderSQL, at, o.ID)
				singles = append(singles, "close order "+o.OutTradeNo)
			}
			if d.Review != "" {
				b.Queue(flagOrderSQL, d.Review, at, o.ID)
				singles = append(singles, "")
			}
		}
		msgs.add(m, d, at, j.hash)
		j.d = d
	}
	if len(msgs.at) == 0 {
		// Every job went to the one-job path: nothing to commit.
		_, err := c.Exec(ctx, "ROLLBACK")
		return rest, err
	}
	if len(pay.id) > 0 {
		b.Queue(payOrdersSQL, pay.id, pay.tradeNo, pay.buyer, pay.paidAt, pay.via, pay.at)
	}
	b.Queue(insertNotificationsSQL, msgs.source, msgs.at, msgs.remote, msgs.method, msgs.body, msgs.verified,
		msgs.notifyID, msgs.outTradeNo, msgs.tradeStatus, msgs.outcome, msgs.detail, msgs.bodyHash, msgs.api, msgs.status, msgs.headers, msgs.settled)
	br = c.SendBatch(ctx, b)
	failed := func() error {
		defer br.Close()
		for _, what := range singles {
			tag, err := br.Exec()
			if err != nil {
				return fmt.Errorf("store: update order: %w", err)
			}
			if what != "" && tag.RowsAffected() != 1 {
				// Not possible on a row locked since it was read; refuse
				// rather than report a change.
				return fmt.Errorf("store: %s: changed concurrently", what)
			}
		}
		if len(pay.id) > 0 {
			tag, err := br.Exec()
			if err != nil {
				return fmt.Errorf("store: pay orders: %w", err)
			}
			if tag.RowsAffected() != int64(len(pay.id)) {
				return fmt.Errorf("store: pay orders: %d of %d changed; some changed concurrently", tag.RowsAffected(), len(pay.id))
			}
		}
		var stored, counted int64
		if err := br.QueryRow().Scan(&stored, &counted); err != nil {
			return fmt.Errorf("store: record messages: %w", err)
		}
		if stored+counted != int64(len(msgs.at)) {
			return fmt.Errorf("store: record messages: %d of %d stored or counted", stored+counted, len(msgs.at))
		}
		return nil
	}()
	if err := br.Close(); failed == nil && err != nil {
		failed = err
	}
	if failed != nil {
		return nil, failed
	}

	// 3. Commit.
	tag, err := c.Exec(ctx, "COMMIT")
	if err != nil {
		return nil, fmt.Errorf("store: commit: %w", err)
	}
	if tag.String() != "COMMIT" {
		return nil, errors.New("store: commit: the transaction was rolled back")
	}
	return rest, nil
}
