-- Rate limits and login lockouts (ledger.Limits), counted here so that a
-- limit holds whichever app server a request reaches: one row per limit
-- name and key (a login, a client address, a user), its fixed window (unix
-- nanoseconds of the app server's clock, as every time here) and how many
-- events it has counted. A hit that finds the window ended starts a new
-- one. window_end is window_start plus the limit's period, so that the
-- sweep of ended windows needs no period and reads an index.
CREATE TABLE rate_limits (
    name         text    NOT NULL,
    key          text    NOT NULL,
    window_start bigint  NOT NULL,
    window_end   bigint  NOT NULL,
    count        integer NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE INDEX rate_limits_window_end ON rate_limits (window_end);
