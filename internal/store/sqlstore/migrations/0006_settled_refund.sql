-- alishop schema, version 6: a stored message that settled a refund names
-- that refund (its out_request_no) in settled_refund, so readers of the log
-- (the load check, the fault suite) count settlements from a typed column.
-- NULL for every other message and for rows stored before this version.
ALTER TABLE notifications ADD COLUMN settled_refund TEXT;
