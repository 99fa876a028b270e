-- Points that expire (see ledger/expiry.go). expiry_policies lists the
-- streets that have a policy (as their units say, written with the unit in
-- one transaction), so the sweep's every-minute look reads one row per
-- street; expiry_runs records each street's expiry of the points earned up
-- to a year: ledger.ExpiryRun.
CREATE TABLE expiry_policies (
    street uuid     PRIMARY KEY,
    years  smallint NOT NULL
);
CREATE TABLE expiry_runs (
    street uuid    NOT NULL,
    year   integer NOT NULL,
    doc    text    NOT NULL,
    PRIMARY KEY (street, year)
);
