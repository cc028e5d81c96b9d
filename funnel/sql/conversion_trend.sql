-- name: conversion_trend
-- uses: funnel_stages
-- The cohort funnel per cohort week or month (metrics.md §1, same definition as stage_conversion).
-- A cohort is "complete" once its last lead has had the full maturity window before the as-of
-- date; younger cohorts are marked incomplete instead of being read as low conversion.
-- Parameters: $cohort_start, $cohort_end, $as_end, $window_days (NULL: no window), $maturity_days.
-- funnel/conversion.py replaces the default cohort and reach CTEs for a scope, and cohort and
-- grain together for weekly cohorts (period = date_trunc('week', …), period_length 7 days).
WITH grain AS (SELECT INTERVAL 1 MONTH AS period_length),
cohort AS (
    -- the cohort's leads with their cohort period
    SELECT l.lead_id, l.created_at, date_trunc('month', l.created_at) AS period
    FROM leads l
    WHERE l.created_at >= $cohort_start AND l.created_at < $cohort_end
),
reach AS (
    -- the cohort's lead_reach rows: (grp = period, position, first_reached_at, created_at)
    SELECT c.period AS grp, r.position, r.first_reached_at, c.created_at
    FROM lead_reach r JOIN cohort c ON c.lead_id = r.lead_id
),
first_pos AS (SELECT min(position) AS position FROM funnel_stages),
periods AS (SELECT period, count(*) AS leads, max(created_at) AS last_created FROM cohort GROUP BY period),
hits AS (
    SELECT r.grp AS period, r.position, count(*) AS reached
    FROM reach r
    WHERE r.first_reached_at < $as_end
      AND ($window_days IS NULL
           OR r.first_reached_at <= r.created_at + CAST($window_days AS INTEGER) * INTERVAL 1 DAY)
    GROUP BY 1, 2
)
SELECT p.period, fs.stage, fs.position, p.leads,
       CASE WHEN fs.position = (SELECT position FROM first_pos) THEN p.leads ELSE coalesce(h.reached, 0) END AS reached,
       (CASE WHEN fs.position = (SELECT position FROM first_pos) THEN p.leads ELSE coalesce(h.reached, 0) END)
           / NULLIF(p.leads, 0)::DOUBLE AS overall_rate,
       p.period_end_plus_window <= $as_end AS complete
FROM (SELECT *, CAST(period AS TIMESTAMP) + (SELECT period_length FROM grain)
                + CAST($maturity_days AS INTEGER) * INTERVAL 1 DAY AS period_end_plus_window
      FROM periods) p
CROSS JOIN funnel_stages fs
LEFT JOIN hits h ON h.period = p.period AND h.position = fs.position
ORDER BY p.period, fs.position
