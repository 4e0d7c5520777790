-- alishop schema, version 14: stock, shipped and virtual goods, and the
-- stock an order holds.

-- stock: how many are left to sell, NULL when the shop does not count.
-- Checkouts take from it by compare-and-set (stock >= quantity), so it is
-- below zero only after a payment kept for an order closed before (see
-- docs/SHOP.md). Goods from before this version keep selling as they did:
-- unlimited and virtual.
ALTER TABLE goods ADD COLUMN stock BIGINT;
ALTER TABLE goods ADD COLUMN shipping BOOLEAN NOT NULL DEFAULT FALSE;
-- What a buyer of virtual goods gets once paid; shown on the paid order's
-- page only.
ALTER TABLE goods ADD COLUMN delivery_note TEXT NOT NULL DEFAULT '';

-- An order is quantity of its goods (amount_fen is the total, version 9);
-- stock_held is how many of the goods' stock it holds (its quantity while
-- the stock is counted, 0 once given back by a close or a refund).
ALTER TABLE orders ADD COLUMN stock_held INTEGER NOT NULL DEFAULT 0 CHECK (stock_held >= 0);

-- A refund's confirmation may give the order's stock back (the admin's
-- choice on the refund form).
ALTER TABLE pending_refunds ADD COLUMN restock BOOLEAN NOT NULL DEFAULT FALSE;
