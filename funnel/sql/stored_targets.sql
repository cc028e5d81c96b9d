-- name: stored_targets
-- The stored revenue targets (metrics.md §7), ordered by period then owner (the empty owner,
-- everyone in scope, first) — the order of the report's targets list.
SELECT period, owner, amount
FROM targets
ORDER BY period, owner
