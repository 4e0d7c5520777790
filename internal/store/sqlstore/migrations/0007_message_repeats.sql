-- alishop schema, version 7: repeats of a stored verified message are
-- counted in a small row of their own, keyed by the message's body_hash,
-- instead of on the message's row: a repeat then writes a few dozen bytes,
-- not a new version of the whole message (PostgreSQL keeps old row versions
-- until they are vacuumed). How often a message was seen is its
-- notifications.times_seen (1, or its count before this version) plus
-- message_repeats.times_seen; when it was last seen, message_repeats'
-- last_seen_at when it has a row there.
CREATE TABLE message_repeats (
    body_hash TEXT PRIMARY KEY,
    times_seen BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
