-- alishop schema, version 8: step 1 of a refund, stored on the server until
-- it is confirmed or expires. confirm_key is the one-time key the
-- confirmation page posts (it becomes the refund's out_request_no); the
-- confirmation is accepted only for this order and amount, before
-- expires_at, and deletes the row in the transaction that stores the refund.
CREATE TABLE pending_refunds (
    confirm_key TEXT PRIMARY KEY,
    out_trade_no TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_refunds_expires ON pending_refunds (expires_at);
