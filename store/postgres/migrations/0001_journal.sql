-- The points journal and the state derived from it (see ../postgres.go).
-- Plain SQL only: no extensions, no PL/pgSQL, so that a port to a
-- PostgreSQL-derived database stays possible.

-- aixin's own settings of this database: the time zone months are counted in.
CREATE TABLE aixin_meta (
    name  text PRIMARY KEY,
    value text NOT NULL
);

-- The newest entry: every append locks this one row first, so appends from
-- every app server form one chain. One app server's waiting appends share
-- one lock and one commit.
CREATE TABLE chain_head (
    id   smallint PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash bytea  NOT NULL,
    at   bigint NOT NULL -- Unix ns of the newest entry
);
INSERT INTO chain_head (id, seq, hash, at) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000', 0);

-- The journal: exactly the bytes the bbolt engine hashes (ledger.Entry.Canonical)
-- and the hash, so that the same journal has the same head hash on both.
-- debit and credit repeat the accounts of the canonical bytes for the
-- per-account listing.
CREATE TABLE journal (
    seq       bigint PRIMARY KEY,
    canonical bytea  NOT NULL,
    hash      bytea  NOT NULL,
    debit     bytea  NOT NULL, -- ledger.Account.Key(): kind byte and 16 id bytes
    credit    bytea  NOT NULL
);
CREATE INDEX journal_debit ON journal (debit, seq);
CREATE INDEX journal_credit ON journal (credit, seq);

-- One row per open account: its balance and counters.
CREATE TABLE accounts (
    account  bytea  PRIMARY KEY,
    balance  bigint NOT NULL DEFAULT 0,
    last_seq bigint NOT NULL DEFAULT 0,
    entries  bigint NOT NULL DEFAULT 0,
    minutes  bigint NOT NULL DEFAULT 0
);
-- The escrow account (ledger.Escrow) is always open.
INSERT INTO accounts (account) VALUES ('\x0300000000000000000000000000000000'::bytea);

-- Each account's totals per month (yyyymm), by entry kind (index = ledger.Kind).
CREATE TABLE account_months (
    account bytea    NOT NULL,
    month   integer  NOT NULL,
    ins     bigint[] NOT NULL,
    outs    bigint[] NOT NULL,
    minutes bigint   NOT NULL,
    wish    bigint   NOT NULL,
    entries bigint   NOT NULL,
    PRIMARY KEY (account, month)
);
CREATE INDEX account_months_month ON account_months (month, account);

-- Idempotency keys of entries: the entry the key first produced.
CREATE TABLE idempotency (
    key text   PRIMARY KEY,
    seq bigint NOT NULL
);

-- Entries that were reversed, and the entry that reversed each.
CREATE TABLE reversed (
    seq    bigint PRIMARY KEY,
    by_seq bigint NOT NULL
);
