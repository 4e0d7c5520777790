-- alishop schema, version 2: durable background jobs, refund bookkeeping,
-- and the daily bill check. Same portable SQL as version 1.

-- A job is one piece of background work, known by (kind, ref): the
-- reconciliation of one order ('order', out_trade_no), the settling of one
-- refund ('refund', out_request_no), the bill check of one day ('bill',
-- yyyy-mm-dd). A worker claims a due job by compare-and-set on its lease:
-- lease_owner/lease_until are set only if the job is due and not leased,
-- so two processes on one database never run the same job at once, and a
-- job whose worker died becomes due again when its lease runs out.
CREATE TABLE jobs (
    id          {{id}},
    kind        TEXT   NOT NULL CHECK (kind IN ('order', 'refund', 'bill')),
    ref         TEXT   NOT NULL,
    run_at      BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error  TEXT   NOT NULL DEFAULT '',
    done_at     BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (kind, ref)
);
CREATE INDEX jobs_due ON jobs (done_at, run_at);

-- Refunds: what Alipay last said, and when the refund was settled.
ALTER TABLE refunds ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN settled_at BIGINT;

-- The daily bill check: one row per day checked, and its mismatches.
CREATE TABLE bill_checks (
    bill_date   TEXT   PRIMARY KEY,         -- yyyy-mm-dd, Beijing
    checked_at  BIGINT NOT NULL,
    bill_rows   BIGINT NOT NULL DEFAULT 0,
    mismatches  BIGINT NOT NULL DEFAULT 0,
    detail      TEXT   NOT NULL DEFAULT ''
);

CREATE TABLE bill_mismatches (
    id              {{id}},
    bill_date       TEXT   NOT NULL,
    kind            TEXT   NOT NULL,        -- missing_local, missing_bill, amount, status, refund_missing_local, refund_missing_bill, refund_amount
    out_trade_no    TEXT   NOT NULL DEFAULT '',
    out_request_no  TEXT   NOT NULL DEFAULT '',
    bill_fen        BIGINT,
    local_fen       BIGINT,
    detail          TEXT   NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);
CREATE INDEX bill_mismatches_date ON bill_mismatches (bill_date);
