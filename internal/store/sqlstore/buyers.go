package sqlstore

import (
	"context"
	"fmt"
)

// SetBuyerSQL records an order's ($2) buyer user id ($1) unless it has
// one: the payer's, when the order was not made by a logged-in buyer.
const SetBuyerSQL = `UPDATE orders SET buyer_user_id = $1 WHERE id = $2 AND buyer_user_id = ''`

// ClaimOrder implements shop.BuyerStore: the order gets the buyer's user id
// unless it has one already.
func (db *DB) ClaimOrder(ctx context.Context, outTradeNo, userID string) error {
	if _, err := db.exec(ctx, `UPDATE orders SET buyer_user_id = $1 WHERE out_trade_no = $2 AND buyer_user_id = ''`, userID, outTradeNo); err != nil {
		return fmt.Errorf("store: claim order: %w", err)
	}
	return nil
}

// BuyerOrderNumbers implements shop.BuyerStore: the numbers of the buyer's
// orders, newest first, at most limit.
func (db *DB) BuyerOrderNumbers(ctx context.Context, userID string, limit int) ([]string, error) {
	return column[string](ctx, db, "buyer's orders", `SELECT out_trade_no FROM orders WHERE buyer_user_id = $1 ORDER BY id DESC LIMIT $2`, userID, limit)
}
