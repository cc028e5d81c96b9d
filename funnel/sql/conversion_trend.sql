-- conversion_trend: the cohort funnel per cohort week or month (metrics.md §1, same definition).
-- A cohort is "complete" once its last lead has had the full maturity window before the as-of
-- date; younger cohorts are marked incomplete instead of being read as low conversion.
-- Slots (in braces): cohort (with column period) and reach (lead_reach rows of the cohort, grp = period),
-- from whitelisted identifiers only.
WITH {cohort},
fs AS (
    SELECT stage, position FROM stage_config
    WHERE funnel = 'lead' AND position IS NOT NULL AND kind IN ('open', 'won')
),
first_pos AS (SELECT min(position) AS position FROM fs),
periods AS (SELECT period, count(*) AS leads, max(created_at) AS last_created FROM cohort GROUP BY period),
hits AS (
    SELECT r.grp AS period, r.position, count(*) AS reached
    FROM {reach} r
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
FROM (SELECT *, CAST(period AS TIMESTAMP) + {period_interval} + CAST($maturity_days AS INTEGER) * INTERVAL 1 DAY
             AS period_end_plus_window FROM periods) p
CROSS JOIN fs
LEFT JOIN hits h ON h.period = p.period AND h.position = fs.position
ORDER BY p.period, fs.position
