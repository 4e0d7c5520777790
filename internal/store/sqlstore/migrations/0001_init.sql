-- alishop schema, version 1.
-- Portable SQL for SQLite and PostgreSQL: money is BIGINT fen, times are
-- BIGINT Unix milliseconds (UTC), flags are BOOLEAN. Two placeholders differ
-- per database and are replaced by the migration runner:
--   {{id}}    an auto-assigned BIGINT primary key
--   {{bytes}} raw bytes (BLOB / BYTEA)

CREATE TABLE goods (
    id         {{id}},
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    price_fen  BIGINT  NOT NULL CHECK (price_fen BETWEEN 1 AND 10000000000),
    hidden     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- One order is one Alipay trade. subject and amount_fen are copied from the
-- goods when the order is made, so a later price change never touches it.
CREATE TABLE orders (
    id             {{id}},
    out_trade_no   TEXT    NOT NULL UNIQUE,
    goods_id       BIGINT  NOT NULL REFERENCES goods (id),
    subject        TEXT    NOT NULL,
    amount_fen     BIGINT  NOT NULL CHECK (amount_fen > 0),
    status         TEXT    NOT NULL DEFAULT 'unpaid'
                   CHECK (status IN ('unpaid', 'paid', 'closed', 'partially_refunded', 'refunded')),
    trade_no       TEXT,              -- Alipay's trade number, once known
    buyer_logon_id TEXT,
    paid_via       TEXT,              -- notify | return | query
    refunded_fen   BIGINT  NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0 AND refunded_fen <= amount_fen),
    needs_review   BOOLEAN NOT NULL DEFAULT FALSE,
    review_reason  TEXT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    time_expire    BIGINT,            -- when the trade expires; NULL: none
    paid_at        BIGINT,
    closed_at      BIGINT,
    next_check_at  BIGINT,            -- when a reconciler should next query it; NULL: never
    check_attempts BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_status_created ON orders (status, created_at);
CREATE INDEX orders_next_check ON orders (next_check_at);

-- Every notification, return redirect and query answer received, valid or
-- not, exactly as it arrived, with what the shop made of it.
CREATE TABLE notifications (
    id           {{id}},
    source       TEXT    NOT NULL CHECK (source IN ('notify', 'return', 'query')),
    received_at  BIGINT  NOT NULL,
    remote_addr  TEXT    NOT NULL DEFAULT '',
    method       TEXT    NOT NULL DEFAULT '',
    body         {{bytes}} NOT NULL,
    verified     BOOLEAN NOT NULL,
    notify_id    TEXT,
    out_trade_no TEXT,
    trade_status TEXT,
    outcome      TEXT    NOT NULL,
    detail       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX notifications_out_trade_no ON notifications (out_trade_no);
CREATE INDEX notifications_received ON notifications (received_at);

-- Refunds: out_request_no is stored before the call and reused on retry.
CREATE TABLE refunds (
    id             {{id}},
    order_id       BIGINT NOT NULL REFERENCES orders (id),
    out_request_no TEXT   NOT NULL UNIQUE,
    amount_fen     BIGINT NOT NULL CHECK (amount_fen > 0),
    reason         TEXT   NOT NULL DEFAULT '',
    status         TEXT   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id);

-- Small settings, e.g. the admin password hash.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Admin sessions: only a hash of the cookie's token is stored.
CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
