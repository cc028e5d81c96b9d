-- name: flip_counts
-- uses: flipped_leads
-- How many leads a draft scenario flips each way, and how many of those reached the outcome stage
-- (metrics.md §5): one row per change ('becomes MQL', 'stops being MQL') that has any lead.
-- Parameters: those of flipped_leads.
SELECT change, count(*) AS leads, count(*) FILTER (WHERE reached_outcome) AS reached
FROM flipped_leads
GROUP BY change
