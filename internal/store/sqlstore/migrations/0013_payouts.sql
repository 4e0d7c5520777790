-- alishop schema, version 13: money the owner pays out to a buyer of an order
-- (a compensation, 转账) through alipay.fund.trans.uni.transfer. out_biz_no
-- is the transfer's identity at Alipay, stored before Alipay is called and
-- sent unchanged on every retry. pending_payouts holds step 1 until it is
-- confirmed (its confirm_key becomes the out_biz_no) or expires.
CREATE TABLE payouts (
    id              {{id}},
    order_id        BIGINT NOT NULL REFERENCES orders (id),
    out_biz_no      TEXT   NOT NULL UNIQUE,
    amount_fen      BIGINT NOT NULL CHECK (amount_fen > 0),
    payee_type      TEXT   NOT NULL,
    payee           TEXT   NOT NULL,
    payee_name      TEXT   NOT NULL DEFAULT '',
    reason          TEXT   NOT NULL DEFAULT '',
    status          TEXT   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    alipay_order_id TEXT   NOT NULL DEFAULT '',
    last_error      TEXT   NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX payouts_order ON payouts (order_id);
CREATE TABLE pending_payouts (
    confirm_key  TEXT PRIMARY KEY,
    out_trade_no TEXT NOT NULL,
    amount_fen   BIGINT NOT NULL,
    payee_type   TEXT NOT NULL,
    payee        TEXT NOT NULL,
    payee_name   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX pending_payouts_expires ON pending_payouts (expires_at);
