-- alishop schema, version 5: a stored answer of Alipay's gateway keeps what
-- verifies it again. An OpenAPI v3 answer is signed in its HTTP headers and
-- says success or refusal by its HTTP status, so next to the body come the
-- protocol it was received over (api: 'v2', 'v3'), its HTTP status
-- (http_status) and its alipay-* and Content-Type headers as canonical
-- "Name: value" lines (headers). All three are NULL for notifications and
-- returns, whose signature is in the body, and for rows stored before this
-- version.
ALTER TABLE notifications ADD COLUMN api TEXT;
ALTER TABLE notifications ADD COLUMN http_status INTEGER;
ALTER TABLE notifications ADD COLUMN headers TEXT;
