-- Every entry rewrites two account rows and two monthly totals rows. Room
-- left on each page lets PostgreSQL put the new version beside the old one
-- (a HOT update: no new index entries, pruned without vacuum), so that the
-- tables and their indexes do not swell with every entry.
ALTER TABLE accounts SET (fillfactor = 50);
ALTER TABLE account_months SET (fillfactor = 50);
