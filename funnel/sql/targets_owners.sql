-- name: targets_owners
-- The opportunity owners the data knows, with their number of deals; an owner named in a
-- targets file that is neither one of these nor a team is a warning (metrics.md §7).
SELECT owner, count(*) AS deals
FROM opportunities
WHERE owner IS NOT NULL
GROUP BY owner
ORDER BY owner
