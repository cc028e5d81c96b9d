-- name: stage_conversion
-- uses: funnel_stages
-- Cohort funnel (metrics.md §1).
-- reached(S) = cohort leads with an event into S or any later positioned stage known by the end
-- of the as-of day (and within the conversion window when one is set). lead_reach already holds,
-- per lead and funnel position, the first time the lead entered that position or a later one, so
-- this is a filtered count, not a sort. Every cohort lead reaches the first position.
-- Parameters: $cohort_start, $cohort_end, $as_end, $window_days (NULL: no window).
-- funnel/conversion.py replaces the default cohort (one group, no filter) and reach CTEs for a
-- scope and a breakdown; reach may then read lead_reach alone (filters and group on its copied columns).
WITH cohort AS (
    -- the cohort's leads with their group
    SELECT l.lead_id, l.created_at, CAST('All leads' AS VARCHAR) AS grp
    FROM leads l
    WHERE l.created_at >= $cohort_start AND l.created_at < $cohort_end
),
reach AS (
    -- the cohort's lead_reach rows: (grp, position, first_reached_at, created_at)
    SELECT c.grp, r.position, r.first_reached_at, c.created_at
    FROM lead_reach r JOIN cohort c ON c.lead_id = r.lead_id
),
first_pos AS (SELECT min(position) AS position FROM funnel_stages),
groups AS (SELECT grp, count(*) AS leads FROM cohort GROUP BY grp),
hits AS (
    SELECT r.grp, r.position, count(*) AS reached,
           median(epoch(r.first_reached_at) - epoch(r.created_at)) / 86400.0 AS median_days_to_reach
    FROM reach r
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
    FROM groups g CROSS JOIN funnel_stages fs
    LEFT JOIN hits h ON h.grp IS NOT DISTINCT FROM g.grp AND h.position = fs.position
)
SELECT grp, stage, position, reached,
       reached / NULLIF(LAG(reached) OVER (PARTITION BY grp ORDER BY position), 0)::DOUBLE AS step_rate,
       reached / NULLIF(FIRST_VALUE(reached) OVER (PARTITION BY grp ORDER BY position), 0)::DOUBLE AS overall_rate,
       median_days_to_reach, leads
FROM grid
ORDER BY grp, position
