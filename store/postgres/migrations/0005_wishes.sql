-- Wishes (微心愿): ledger.Wish with its history. claim_due is when an open
-- claim lapses (Unix ns; NULL when the wish is not claimed).
CREATE TABLE wishes (
    id        uuid   PRIMARY KEY,
    community uuid   NOT NULL,
    claim_due bigint,
    doc       text   NOT NULL
);
CREATE INDEX wishes_community ON wishes (community, id);
CREATE INDEX wishes_claims ON wishes (claim_due, id) WHERE claim_due IS NOT NULL;

-- The wishes a member entered, claimed or took part in.
CREATE TABLE member_wishes (
    member uuid NOT NULL,
    wish   uuid NOT NULL,
    PRIMARY KEY (member, wish)
);

-- A client's idempotency key of a step: the wish and a hash of the step
-- and its request, so that a repeat is told from a reuse.
CREATE TABLE wish_keys (
    key     text  PRIMARY KEY,
    wish    uuid  NOT NULL,
    request bytea NOT NULL
);

-- A wish's photos, numbered from 1.
CREATE TABLE wish_photos (
    wish         uuid     NOT NULL,
    n            smallint NOT NULL,
    content_type text     NOT NULL,
    data         bytea    NOT NULL,
    PRIMARY KEY (wish, n)
);

-- A community's public wish wall switch: ledger.WishWall.
CREATE TABLE wish_walls (
    community uuid PRIMARY KEY,
    doc       text NOT NULL
);
