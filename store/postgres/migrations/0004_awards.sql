-- Households (一家亲): ledger.Household; one household a door of a unit
-- (door is ledger.DoorKey of the address).
CREATE TABLE households (
    id   uuid PRIMARY KEY,
    unit uuid NOT NULL,
    door text NOT NULL,
    doc  text NOT NULL,
    UNIQUE (unit, door)
);

-- The one household a member belongs to.
CREATE TABLE member_households (
    member    uuid PRIMARY KEY,
    household uuid NOT NULL
);

-- Behaviour lists (文明行为银行): ledger.Behaviour, per street or community.
CREATE TABLE behaviours (
    id   uuid PRIMARY KEY,
    unit uuid NOT NULL,
    doc  text NOT NULL
);

-- Awards and deductions: ledger.Award with the client's key of its
-- creation and the request's fingerprint. target is the member or
-- household, month the month recorded (yyyymm); open the awards waiting
-- for approval, in notice or held; notice_until the end of the notice
-- period of those in notice (Unix ns).
CREATE TABLE awards (
    id           uuid    PRIMARY KEY,
    target       uuid    NOT NULL,
    month        integer NOT NULL,
    open         boolean NOT NULL,
    notice_until bigint,
    client_key   text    UNIQUE,
    doc          text    NOT NULL
);
CREATE INDEX awards_target ON awards (target, id);
CREATE INDEX awards_month ON awards (month, id);
CREATE INDEX awards_open ON awards (id) WHERE open;
CREATE INDEX awards_notice ON awards (notice_until, id) WHERE notice_until IS NOT NULL;

-- How many awards of a behaviour count against its caps for a member or
-- household in a month (yyyymm) and in a year (yyyy00).
CREATE TABLE award_caps (
    behaviour uuid    NOT NULL,
    target    uuid    NOT NULL,
    month     integer NOT NULL,
    count     bigint  NOT NULL,
    PRIMARY KEY (behaviour, target, month)
);

-- An award's photos (at most ledger.MaxAwardEvidence, 512 KiB each).
CREATE TABLE award_pictures (
    award        uuid     NOT NULL,
    n            smallint NOT NULL,
    content_type text     NOT NULL,
    data         bytea    NOT NULL,
    PRIMARY KEY (award, n)
);
