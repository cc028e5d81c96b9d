-- name: opportunity_count
-- How many opportunities the database holds: without any, the weekly review has no forecast to
-- show (no tiles, no overdue risk) and says so instead of computing empty figures.
SELECT count(*) AS opportunities FROM opportunities
