-- alishop schema, version 3: a short description and an optional picture
-- per goods item. Same portable SQL as version 1.

ALTER TABLE goods ADD COLUMN description TEXT NOT NULL DEFAULT '';
-- image_version names the current picture (a hash of its bytes), '' when
-- there is none; it goes into the picture's URL so browsers may cache it.
ALTER TABLE goods ADD COLUMN image_version TEXT NOT NULL DEFAULT '';

-- The picture's bytes, checked by the shop before they are stored (type by
-- content, size bounded), kept in the database so that every process
-- serving the shop sees the same pictures.
CREATE TABLE goods_images (
    goods_id     BIGINT    PRIMARY KEY REFERENCES goods (id),
    content_type TEXT      NOT NULL,
    data         {{bytes}} NOT NULL,
    updated_at   BIGINT    NOT NULL
);
