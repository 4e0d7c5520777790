-- alishop schema, version 4: bounded storage of inbound messages.
--
-- A verified message is stored whole, once: body_hash identifies it (a
-- SHA-256 of its source and exact bytes; NULL for unverified messages, which
-- are never merged), and receiving the identical message again counts it
-- (times_seen, last_seen_at) instead of adding a row. Rows stored before
-- this version have no body_hash and stay as they are.
ALTER TABLE notifications ADD COLUMN body_hash TEXT;
ALTER TABLE notifications ADD COLUMN times_seen BIGINT NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN last_seen_at BIGINT;
CREATE UNIQUE INDEX notifications_body_hash ON notifications (body_hash);
-- Pruning by age and kind.
CREATE INDEX notifications_verified_received ON notifications (verified, received_at);
