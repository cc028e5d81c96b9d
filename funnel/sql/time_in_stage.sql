-- time_in_stage: visits per stage with completed/censored durations (metrics.md §2).
-- A visit is an explicit event into an open, rejected or recycled stage; it ends at the item's
-- next event known by the end of the as-of day, else it is censored at that midnight. Durations
-- are whole microseconds (exact, and integers sort faster than doubles); hours = µs / 3.6e9.
-- Slots (in braces below): visits — a CTE "visits(item_id, stage, entered_at, next_at)" for the
-- chosen funnel; km and km_median — the Kaplan–Meier CTEs of funnel/time_in_stage.py (st, v, …, km);
-- curve_columns — empty, or the curve's columns as NULLs when the curve rows follow (UNION ALL).
WITH {visits}, {km}, {km_median},
summary AS (
    SELECT sid, count(*) AS visits, count(*) FILTER (WHERE done) AS completed,
           -- percentile_cont rather than quantile_cont: the portable spelling (Spark has no quantile_cont)
           percentile_cont(0.5) WITHIN GROUP (ORDER BY dur) FILTER (WHERE done) / 3.6e9 AS median_hours,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY dur) FILTER (WHERE done) / 3.6e9 AS p90_hours
    FROM v GROUP BY sid
)
SELECT st.stage, st.position, st.kind,
       CAST(coalesce(s.visits, 0) AS BIGINT) AS visits, CAST(coalesce(s.completed, 0) AS BIGINT) AS completed,
       CAST(coalesce(s.visits - s.completed, 0) AS BIGINT) AS censored,
       s.median_hours, s.p90_hours, km.km_median_hours{curve_columns}
FROM st LEFT JOIN summary s ON s.sid = st.sid LEFT JOIN km ON km.sid = st.sid
ORDER BY st.position IS NULL, st.position, st.stage
