-- Events and attendances (签到/签退).

-- Events: ledger.Event with its check-in secret.
CREATE TABLE events (
    id   uuid PRIMARY KEY,
    unit uuid NOT NULL,
    doc  text NOT NULL
);

-- Who changed what of an event, in order: ledger.EventChange.
CREATE TABLE event_changes (
    event uuid NOT NULL,
    id    uuid NOT NULL,
    doc   text NOT NULL,
    PRIMARY KEY (event, id)
);

-- Attendances: ledger.Attendance. A member has at most one open attendance
-- (a constraint of the table, not only of the code). checked_out_at is the
-- check-out time (Unix ns) once there is one.
CREATE TABLE attendances (
    id             uuid    PRIMARY KEY,
    event          uuid    NOT NULL,
    member         uuid    NOT NULL,
    open           boolean NOT NULL,
    checked_out_at bigint,
    doc            text    NOT NULL
);
CREATE INDEX attendances_event ON attendances (event, id);
CREATE INDEX attendances_member ON attendances (member, id);
CREATE INDEX attendances_member_end ON attendances (member, checked_out_at);
CREATE UNIQUE INDEX attendances_open ON attendances (member) WHERE open;

-- Minutes posted for a member on a day (yyyymmdd): the daily cap.
CREATE TABLE member_days (
    member  uuid    NOT NULL,
    day     integer NOT NULL,
    minutes bigint  NOT NULL,
    PRIMARY KEY (member, day)
);

-- Service by posting month: the net minutes a month's entries credited for
-- an event, and for an attendance served in an earlier month (补录), with
-- the time of the month's last entry for it.
CREATE TABLE month_events (
    month   integer NOT NULL,
    event   uuid    NOT NULL,
    minutes bigint  NOT NULL,
    PRIMARY KEY (month, event)
);
CREATE TABLE month_late (
    month      integer NOT NULL,
    attendance uuid    NOT NULL,
    minutes    bigint  NOT NULL,
    at         bigint  NOT NULL,
    PRIMARY KEY (month, attendance)
);
