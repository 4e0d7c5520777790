-- alishop schema, version 15: 当面付 (face-to-face) orders taken at the
-- counter from the admin's 当面付收款 page.
--
-- channel says how an order was made: 'web' (a buyer's checkout) or 'pos'
-- (the counter). A counter order sells no goods item: its subject and
-- amount are what the owner typed. orders.goods_id stays NOT NULL and
-- references goods, so counter orders name the reserved goods row 0,
-- hidden and never listed, sold or edited (the shop's goods queries leave
-- it out); changing the column instead would mean rebuilding the orders
-- table on SQLite.
INSERT INTO goods (id, name, price_fen, hidden, created_at, updated_at) VALUES (0, '当面付收款', 1, TRUE, 0, 0);
ALTER TABLE orders ADD COLUMN channel TEXT NOT NULL DEFAULT 'web' CHECK (channel IN ('web', 'pos'));
-- pos_key is the one-time key of the 当面付收款 form that made the order:
-- the same form posted twice finds the order it made instead of charging
-- again. NULL for web orders.
ALTER TABLE orders ADD COLUMN pos_key TEXT;
CREATE UNIQUE INDEX orders_pos_key ON orders (pos_key);
-- pos_note says in the shop's words why a counter order ended unpaid (the
-- code was refused, the buyer did not confirm in time, the owner
-- cancelled), for the counter page; '' otherwise.
ALTER TABLE orders ADD COLUMN pos_note TEXT NOT NULL DEFAULT '';
