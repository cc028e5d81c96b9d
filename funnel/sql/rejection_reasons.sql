-- name: rejection_reasons
-- uses: rejection_events
-- Rejections by the reason the rejecting event gave (metrics.md §3, breakdown by reason):
-- reason (NULL when none was given — rejection_events turns a blank reason into NULL), rejected,
-- and its share of all the cohort's rejections. Most frequent first; the missing reason last
-- among equals, so a named reason is read before "none given".
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff).
SELECT reason, count(*) AS rejected, count(*) / sum(count(*)) OVER ()::DOUBLE AS share
FROM rj
GROUP BY reason
ORDER BY rejected DESC, reason NULLS LAST
