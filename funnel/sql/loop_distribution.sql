-- name: loop_distribution
-- uses: rejection_events
-- Handed-off cohort leads by their number of loops (metrics.md §3: a loop is every hand-off after
-- the first, so a lead handed off once has 0): loops, leads, share of the handed-off leads.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff).
WITH per_lead AS (SELECT lead_id, count(*) - 1 AS loops FROM handoffs GROUP BY lead_id)
SELECT loops, count(*) AS leads, count(*) / sum(count(*)) OVER ()::DOUBLE AS share
FROM per_lead
GROUP BY loops
ORDER BY loops
