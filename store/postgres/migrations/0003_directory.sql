-- Objects are kept as the same JSON documents the bbolt engine keeps
-- (doc), with beside them the columns that queries, uniqueness and row
-- locks need.

-- The unit tree (街道, 社区, 网格, 楼栋): ledger.Unit. Ids are UUIDv7, so
-- id order puts parents before children.
CREATE TABLE units (
    id     uuid PRIMARY KEY,
    parent uuid,
    doc    text NOT NULL
);

-- Shops (爱心超市, 文明行为银行 counters): ledger.Shop.
CREATE TABLE shops (
    id   uuid PRIMARY KEY,
    unit uuid NOT NULL,
    doc  text NOT NULL
);

-- User accounts: ledger.User with its password hash. Logins compare
-- case-insensitively: login is kept in lower case, once.
CREATE TABLE users (
    id    uuid PRIMARY KEY,
    login text NOT NULL UNIQUE,
    role  text NOT NULL,
    doc   text NOT NULL
);

-- Sessions, by the SHA-256 of their token, shared by every app server.
CREATE TABLE sessions (
    token      bytea  PRIMARY KEY,
    user_id    uuid   NOT NULL,
    expires_at bigint NOT NULL, -- Unix ns
    doc        text   NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Teams (志愿服务队): ledger.Team; a name once per unit.
CREATE TABLE teams (
    id   uuid PRIMARY KEY,
    unit uuid NOT NULL,
    name text NOT NULL,
    doc  text NOT NULL,
    UNIQUE (unit, name)
);

-- Members (volunteers): ledger.Member; one member a phone number.
CREATE TABLE members (
    id    uuid PRIMARY KEY,
    unit  uuid NOT NULL,
    phone text NOT NULL UNIQUE,
    doc   text NOT NULL
);
