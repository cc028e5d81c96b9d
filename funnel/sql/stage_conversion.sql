-- stage_conversion: cohort funnel (metrics.md §1).
-- reached(S) = cohort leads with an event into S or any later positioned stage known by the end
-- of the as-of day (and within the conversion window when one is set). lead_reach already holds,
-- per lead and funnel position, the first time the lead entered that position or a later one, so
-- this is a filtered count, not a sort. Every cohort lead reaches the first position.
-- Slots (in braces): cohort (the cohort CTE, with column grp) and reach (the cohort's lead_reach rows
-- with grp and created_at, see conversion._reach), filled from whitelisted identifiers only.
WITH {cohort},
fs AS (
    SELECT stage, position FROM stage_config
    WHERE funnel = 'lead' AND position IS NOT NULL AND kind IN ('open', 'won')
),
first_pos AS (SELECT min(position) AS position FROM fs),
groups AS (SELECT grp, count(*) AS leads FROM cohort GROUP BY grp),
hits AS (
    SELECT r.grp, r.position, count(*) AS reached,
           median(epoch(r.first_reached_at) - epoch(r.created_at)) / 86400.0 AS median_days_to_reach
    FROM {reach} r
    WHERE r.first_reached_at < $as_end
      AND ($window_days IS NULL
           OR r.first_reached_at <= r.created_at + CAST($window_days AS INTEGER) * INTERVAL 1 DAY)
    GROUP BY r.grp, r.position
),
grid AS (
    SELECT g.grp, fs.stage, fs.position,
           CASE WHEN fs.position = (SELECT position FROM first_pos) THEN g.leads
                ELSE coalesce(h.reached, 0) END AS reached,
           CASE WHEN fs.position = (SELECT position FROM first_pos) THEN NULL
                ELSE h.median_days_to_reach END AS median_days_to_reach,
           g.leads
    FROM groups g CROSS JOIN fs
    LEFT JOIN hits h ON h.grp IS NOT DISTINCT FROM g.grp AND h.position = fs.position
)
SELECT grp, stage, position, reached,
       reached / NULLIF(LAG(reached) OVER (PARTITION BY grp ORDER BY position), 0)::DOUBLE AS step_rate,
       reached / NULLIF(FIRST_VALUE(reached) OVER (PARTITION BY grp ORDER BY position), 0)::DOUBLE AS overall_rate,
       median_days_to_reach, leads
FROM grid
ORDER BY grp, position
