-- name: time_to_convert_histogram
-- uses: funnel_stages
-- How many cohort leads first reached each stage (after the first) within each band of days
-- since their creation (metrics.md §1: reached as of the end of D, within the window when set).
-- Parameters: $cohort_start, $cohort_end, $as_end, $window_days (NULL: no window).
-- funnel/conversion.py replaces cohort and reach for a scope, and the band column's CASE for the
-- chosen band edges (the default: 0–1, 1–7, 7–30 days, 30+).
WITH cohort AS (
    SELECT l.lead_id, l.created_at, 1 AS grp
    FROM leads l
    WHERE l.created_at >= $cohort_start AND l.created_at < $cohort_end
),
reach AS (
    SELECT c.grp, r.position, r.first_reached_at, c.created_at
    FROM lead_reach r JOIN cohort c ON c.lead_id = r.lead_id
),
d AS (
    SELECT fs.stage, fs.position,
           (epoch(r.first_reached_at) - epoch(r.created_at)) / 86400.0 AS days
    FROM reach r JOIN funnel_stages fs ON fs.position = r.position
    WHERE r.first_reached_at < $as_end AND fs.position > (SELECT min(position) FROM funnel_stages)
      AND ($window_days IS NULL
           OR r.first_reached_at <= r.created_at + CAST($window_days AS INTEGER) * INTERVAL 1 DAY)
)
SELECT stage, position,
       CASE WHEN days < 0 THEN 'before creation' WHEN days < 1 THEN '0–1 d' WHEN days < 7 THEN '1–7 d'
            WHEN days < 30 THEN '7–30 d' ELSE '30+ d' END AS band,
       min(days) AS band_order, count(*) AS leads
FROM d
GROUP BY 1, 2, 3
ORDER BY position, band_order
