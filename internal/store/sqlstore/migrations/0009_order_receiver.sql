-- alishop schema, version 9: how many of the goods an order is for, and for
-- goods delivered to an address (shipping), who and where to.
ALTER TABLE orders ADD COLUMN quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1);
ALTER TABLE orders ADD COLUMN shipping BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE orders ADD COLUMN receiver_name TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN receiver_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN receiver_address TEXT NOT NULL DEFAULT '';
