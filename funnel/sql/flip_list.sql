-- name: flip_list
-- uses: flipped_leads
-- The leads a draft scenario flips (metrics.md §5), for the page's list: those that become MQL
-- first, then those that stop being MQL; within each, those that reached the outcome first, then
-- by draft score (highest first) and lead id — the same rows in the same order on every run.
-- At most $limit rows; flip_counts has the totals. scoring.flips runs it on a temporary table
-- flipped_leads (its own scan of the leads) shared with flip_counts.
-- Parameters: $limit, and those of flipped_leads.
SELECT *
FROM flipped_leads
ORDER BY change, reached_outcome DESC, draft_score DESC, lead_id
LIMIT $limit
