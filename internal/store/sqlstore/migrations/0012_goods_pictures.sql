-- alishop schema, version 12: up to six pictures per goods item, each kept
-- as resized copies. Same portable SQL as version 1.

-- A goods item's pictures in order (position 0 is the main picture, whose
-- version goods.image_version repeats for the lists). version names the
-- picture (a hash of the uploaded bytes) and is in its URLs; large and
-- small are the copies served (at most 800 and 400 pixels a side), of
-- content_type. width and height are the upload's, upright; 0 for a
-- picture stored before pictures were resized, whose copies are the
-- upload itself.
CREATE TABLE goods_pictures (
    goods_id     BIGINT    NOT NULL REFERENCES goods (id),
    position     BIGINT    NOT NULL CHECK (position BETWEEN 0 AND 5),
    version      TEXT      NOT NULL,
    width        BIGINT    NOT NULL DEFAULT 0,
    height       BIGINT    NOT NULL DEFAULT 0,
    content_type TEXT      NOT NULL,
    large        {{bytes}} NOT NULL,
    small        {{bytes}} NOT NULL,
    created_at   BIGINT    NOT NULL,
    PRIMARY KEY (goods_id, position),
    UNIQUE (goods_id, version)
);

-- The one picture of each goods item so far becomes its main picture.
INSERT INTO goods_pictures (goods_id, position, version, content_type, large, small, created_at)
SELECT i.goods_id, 0, g.image_version, i.content_type, i.data, i.data, i.updated_at
FROM goods_images i JOIN goods g ON g.id = i.goods_id
WHERE g.image_version <> '';

DROP TABLE goods_images;
