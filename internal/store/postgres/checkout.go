package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"alishop/internal/shop"
	"alishop/internal/store/sqlstore"
)

// Checkouts of counted stock, batched.
//
// A checkout that reserves stock updates its goods row, and PostgreSQL
// holds that row's lock until the transaction's COMMIT has been flushed:
// checkouts of one goods item made one transaction each wait for each
// other's commit, one flush per order, while checkouts of unlimited goods
// share their flushes (the server's group commit). So an order holding
// stock joins a batch: a few checkout workers each take every such order
// waiting (up to maxBatch) and make them in one transaction, in the order
// of their goods (so two batches, in this process or another, lock goods
// rows in the same order and never wait for each other in a cycle), each
// by sqlstore.InsertOrderTx: the reservation by compare-and-set, then the
// insert. An order that finds too few left, or its goods hidden or changed,
// leaves nothing in the transaction and gets its answer after the commit
// like the others. The caller gets its answer only after the COMMIT
// returned. A batch the server rolls back as a deadlock or a serialization
// failure runs again; one that fails for another reason (a duplicate
// out_trade_no aborts the transaction) is run order by order, each in a
// transaction of its own, so that one bad order fails alone.

// checkoutWorkers is how many checkout batches run at once. Batches of
// the same goods wait for each other's row lock anyway; two let one batch
// fill while the other commits.
func checkoutWorkers() int { return 2 }

type checkoutJob struct {
	o    *shop.Order
	made sqlstore.OrderInsert
	err  error
	done chan struct{}
}

func (db *DB) startCheckouts() {
	db.wr.checkout = make(chan *checkoutJob, maxBatch)
	startBatchers(db.wr, checkoutWorkers(), db.wr.checkout, db.checkoutBatch)
}

// CreateOrder implements shop.Store: an order holding stock joins a
// checkout batch (see above) and CreateOrder waits for its outcome
// whatever ctx does once it is queued; any other order is made in a
// transaction of its own.
func (db *DB) CreateOrder(ctx context.Context, o *shop.Order) error {
	if o.StockHeld <= 0 {
		return db.DB.CreateOrder(ctx, o)
	}
	if err := db.wr.enter(); err != nil {
		return err
	}
	defer db.wr.inflight.Done()
	j := &checkoutJob{o: o, done: make(chan struct{})}
	select {
	case db.wr.checkout <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-j.done
	return db.OrderInserted(ctx, o, j.made, j.err)
}

// checkoutBatch makes a batch's orders and gives every job its result.
func (db *DB) checkoutBatch(batch []*checkoutJob) {
	ctx := context.Background()
	slices.SortStableFunc(batch, func(a, b *checkoutJob) int { return cmp.Compare(a.o.GoodsID, b.o.GoodsID) })
	var err error
	for i := 0; ; i++ {
		err = db.wr.runTx(ctx, func(ctx context.Context, tx *sqlstore.Tx) error {
			for _, j := range batch {
				j.made, j.err = sqlstore.InsertOrderTx(ctx, tx, j.o)
				if j.err != nil && !isNotMade(j.err) {
					return j.err
				}
			}
			return nil
		})
		if err == nil || !isRetryable(err) || i == 4 {
			break
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
	if err != nil {
		// Each order on its own, so that one bad order fails alone.
		for _, j := range batch {
			j.err = db.wr.retryTx(ctx, func(ctx context.Context, tx *sqlstore.Tx) error {
				var err error
				j.made, err = sqlstore.InsertOrderTx(ctx, tx, j.o)
				return err
			})
		}
	}
	for _, j := range batch {
		close(j.done)
	}
}

// isNotMade reports whether InsertOrderTx's err says the order cannot be
// made (too few left, goods hidden or changed), which leaves the
// transaction usable.
func isNotMade(err error) bool { return errors.Is(err, sql.ErrNoRows) }
