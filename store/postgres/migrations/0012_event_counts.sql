-- Each event's attendances counted: in all, and open now. A scan reads
-- them (the capacity, the answer's counters) instead of counting the
-- event's attendances, which grows with the event; putAttendance keeps
-- them in the statement that writes the attendance. aixin verify counts
-- again and compares.
CREATE TABLE event_counts (
    event uuid    PRIMARY KEY,
    total integer NOT NULL,
    open  integer NOT NULL
);
LOCK TABLE attendances IN SHARE MODE; -- no attendance changes while they are counted
INSERT INTO event_counts (event, total, open)
SELECT event, count(*), count(*) FILTER (WHERE open) FROM attendances GROUP BY event;
