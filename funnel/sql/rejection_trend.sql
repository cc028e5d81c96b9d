-- name: rejection_trend
-- uses: rejection_events
-- Per week (metrics.md §3): hand-offs of the cohort's leads, rejections, and their ratio. Each
-- event counts in the period it happened in — a hand-off by its own date, a rejection by the
-- rejection's — so a period's rate compares what sales received and turned down that period.
-- A period with rejections but no hand-off has no rate (NULLIF), not an infinite one.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff).
-- funnel/rejections.py replaces the period column of h and x for months.
WITH h AS (SELECT date_trunc('week', entered_at) AS period, count(*) AS handoffs FROM handoffs GROUP BY 1),
x AS (SELECT date_trunc('week', rejected_at) AS period, count(*) AS rejected FROM rj GROUP BY 1)
SELECT coalesce(h.period, x.period) AS period, coalesce(h.handoffs, 0) AS handoffs,
       coalesce(x.rejected, 0) AS rejected,
       coalesce(x.rejected, 0) / NULLIF(h.handoffs, 0)::DOUBLE AS rejection_rate
FROM h FULL OUTER JOIN x ON x.period = h.period
ORDER BY period
