-- name: rejection_reasons_over_time
-- uses: rejection_events
-- Rejections per month of the rejection and reason (metrics.md §3, breakdown by reason, over
-- time): period, reason ('(no reason given)' when the event gave none, so it plots as a series of
-- its own), rejected. Per period the most frequent reason first.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff).
-- funnel/rejections.py replaces the period column for weeks.
SELECT date_trunc('month', rejected_at) AS period, coalesce(reason, '(no reason given)') AS reason,
       count(*) AS rejected
FROM rj
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
