-- name: rejection_actors
-- uses: rejection_events
-- Rejections by who rejected (metrics.md §3, breakdown by rejecting actor): the event's actor
-- ('(unknown)' when the CRM did not record one), rejected, its share of all rejections, and how
-- many of the rejections they made were followed by a resubmission of the lead.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff).
SELECT coalesce(actor, '(unknown)') AS grp, count(*) AS rejected,
       count(*) / sum(count(*)) OVER ()::DOUBLE AS share,
       count(resubmitted_at) AS resubmissions
FROM rj
GROUP BY 1
ORDER BY rejected DESC, grp
