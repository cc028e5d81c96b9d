-- time_in_stage: visits per stage with completed/censored durations (metrics.md §2).
-- A visit is an explicit event into an open, rejected or recycled stage; it ends at the item's
-- next event known by the end of the as-of day, else it is censored at that midnight. Durations
-- are whole microseconds (exact, and integers sort faster than doubles); hours = µs / 3.6e9.
-- Slots (in braces below): visits — a CTE "visits(item_id, stage, entered_at, next_at)" for the
-- chosen funnel; km and km_median — the Kaplan–Meier CTEs of funnel/time_in_stage.py (st, v, …, km);
-- curve_columns — empty, or the curve's columns as NULLs when the curve rows follow (UNION ALL).
WITH {visits}, {km}, {km_median},
-- Median and p90 of the finished visits exactly as percentile_cont defines them: at position
-- h = (completed − 1)·p of the finished durations in order, interpolated between the ranks
-- floor(h) and ceil(h). The KM blocks already hold runs of consecutive finished ranks, so only the
-- (at most four) blocks holding those ranks are ordered — not every visit a second time.
pos AS (
    SELECT sid, CAST(completed - 1 AS DOUBLE) * 0.5 AS h50, CAST(completed - 1 AS DOUBLE) * 0.9 AS h90
    FROM n WHERE completed > 0
),
need AS (
    SELECT sid, CAST(floor(h50) AS BIGINT) AS k FROM pos UNION SELECT sid, CAST(ceil(h50) AS BIGINT) FROM pos
    UNION SELECT sid, CAST(floor(h90) AS BIGINT) FROM pos UNION SELECT sid, CAST(ceil(h90) AS BIGINT) FROM pos
),
located AS (
    SELECT DISTINCT c.sid, c.b, c.done_before
    FROM need JOIN cum c ON c.sid = need.sid AND need.k >= c.done_before AND need.k < c.done_before + c.done_in_block
),
in_block AS (
    SELECT t.sid, t.dur, l.done_before + row_number() OVER (PARTITION BY t.sid, t.b ORDER BY t.dur) - 1 AS k
    FROM terms t JOIN located l ON l.sid = t.sid AND l.b = t.b
),
pts AS (
    SELECT p.sid,
           max(i.dur) FILTER (WHERE i.k = floor(p.h50)) AS lo50, max(i.dur) FILTER (WHERE i.k = ceil(p.h50)) AS hi50,
           max(i.dur) FILTER (WHERE i.k = floor(p.h90)) AS lo90, max(i.dur) FILTER (WHERE i.k = ceil(p.h90)) AS hi90,
           any_value(p.h50) AS h50, any_value(p.h90) AS h90
    FROM pos p JOIN in_block i ON i.sid = p.sid JOIN need ON need.sid = i.sid AND need.k = i.k
    GROUP BY p.sid
),
summary AS (
    SELECT n.sid, n.visits, n.completed,
           (pts.lo50 + (pts.h50 - floor(pts.h50)) * (pts.hi50 - pts.lo50)) / 3.6e9 AS median_hours,
           (pts.lo90 + (pts.h90 - floor(pts.h90)) * (pts.hi90 - pts.lo90)) / 3.6e9 AS p90_hours
    FROM n LEFT JOIN pts ON pts.sid = n.sid
)
SELECT st.stage, st.position, st.kind,
       CAST(coalesce(s.visits, 0) AS BIGINT) AS visits, CAST(coalesce(s.completed, 0) AS BIGINT) AS completed,
       CAST(coalesce(s.visits - s.completed, 0) AS BIGINT) AS censored,
       s.median_hours, s.p90_hours, km.km_median_hours{curve_columns}
FROM st LEFT JOIN summary s ON s.sid = st.sid LEFT JOIN km ON km.sid = st.sid
ORDER BY st.position IS NULL, st.position, st.stage
