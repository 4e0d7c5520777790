-- alishop schema, version 11: the buyer's Alipay user id (2088…) of an
-- order: set when a buyer logged in with 支付宝登录 makes it, or else from
-- the payment's buyer id (notification buyer_id, query buyer_user_id).
-- '' when unknown. 我的订单 lists a logged-in buyer's orders by it.
ALTER TABLE orders ADD COLUMN buyer_user_id TEXT NOT NULL DEFAULT '';
CREATE INDEX orders_buyer_user ON orders (buyer_user_id, id) WHERE buyer_user_id <> '';
