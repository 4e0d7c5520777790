-- alishop schema, version 10: the fulfilment of paid orders of shipped
-- goods ('' 待发货 → 'shipped' 已发货 → 'completed' 已完成), kept apart from
-- status (the payment's state), with the shipment the owner entered, and
-- every fulfilment change with its time and who made it.
ALTER TABLE orders ADD COLUMN fulfilment TEXT NOT NULL DEFAULT '' CHECK (fulfilment IN ('', 'shipped', 'completed'));
ALTER TABLE orders ADD COLUMN carrier TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN tracking_no TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN shipped_at BIGINT;
ALTER TABLE orders ADD COLUMN completed_at BIGINT;
CREATE INDEX orders_fulfilment_created ON orders (fulfilment, created_at);

-- actor: admin (the owner), buyer, or system (the auto-complete job).
-- detail never holds the receiver's phone or address.
CREATE TABLE order_events (
    id       {{id}},
    order_id BIGINT NOT NULL REFERENCES orders (id),
    kind     TEXT   NOT NULL,
    actor    TEXT   NOT NULL,
    at       BIGINT NOT NULL,
    detail   TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order ON order_events (order_id, at);

-- The jobs table again, without the list of kinds in a CHECK (which SQLite
-- cannot alter in place): the kinds are the jobs package's, now with
-- 'complete' (ref out_trade_no: complete a shipped order whose buyer has
-- not confirmed receipt in time). Job ids are assigned afresh; a job keeps
-- its kind, ref, schedule, lease and history.
CREATE TABLE jobs_v10 (
    id          {{id}},
    kind        TEXT   NOT NULL CHECK (kind <> ''),
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
INSERT INTO jobs_v10 (kind, ref, run_at, attempts, lease_owner, lease_until, last_error, done_at, created_at, updated_at)
    SELECT kind, ref, run_at, attempts, lease_owner, lease_until, last_error, done_at, created_at, updated_at FROM jobs ORDER BY id;
DROP TABLE jobs;
ALTER TABLE jobs_v10 RENAME TO jobs;
CREATE INDEX jobs_due ON jobs (done_at, run_at);
