-- name: time_in_stage
-- Visits per stage with completed/censored durations (metrics.md §2).
-- A visit is an explicit event into an open, rejected or recycled stage; it ends at the item's
-- next event known by the end of the as-of day, else it is censored at that midnight. Durations
-- are whole microseconds (exact, and integers sort faster than doubles); hours = µs / 3.6e9.
-- Parameters: $funnel ('lead' or 'opportunity'), $as_end, $km_points (Kaplan–Meier blocks per
-- stage), and those of visits: by default the lead cohort's ($cohort_start, $cohort_end).
-- funnel/time_in_stage.py replaces visits(item_id, stage, entered_at, next_at) for the scope and
-- funnel; survival_curves and time_in_stage_and_curves read this query's Kaplan–Meier CTEs.
WITH visits AS (
    SELECT v.lead_id AS item_id, v.stage, v.entered_at, v.next_at
    FROM lead_visits v
    WHERE v.created_at >= $cohort_start AND v.created_at < $cohort_end
),
-- Kaplan–Meier without grouping by duration, in one sort. Rank each stage's visits shortest first
-- and, at equal durations, finished before still-open ones. A finished visit's at-risk count is
-- then the number of visits not ranked before it, and the KM factor (1 - d/n) of a duration with d
-- exits splits into d factors (1 - 1/at_risk), one per finished visit — so the log-survival is a
-- running sum over finished visits in rank order. That running sum is taken per block of ranks
-- (cheap aggregates), and exactly inside the one block where survival crosses one half. A factor
-- with at_risk = 1 (everyone left) drops survival to zero: its log is -1e300.
st AS (
    SELECT stage, position, kind, row_number() OVER (ORDER BY stage) AS sid FROM stage_config
    WHERE funnel = $funnel AND kind IN ('open', 'rejected', 'recycled')
),
v AS (
    -- dur is clamped to [0, 2^55 - 1] µs (1,141 years) so that it stays inside its bits of the
    -- sort key below: a longer visit (only a database from before the import's date bounds can
    -- hold one) would spill into the stage bits and be counted in another stage. Clamping keeps
    -- the order; such visits tie at the cap.
    SELECT st.sid, coalesce(v.next_at < $as_end, FALSE) AS done,
           least(greatest(epoch_us(CASE WHEN v.next_at < $as_end THEN v.next_at ELSE $as_end END)
                          - epoch_us(v.entered_at), 0), 36028797018963967) AS dur
    FROM visits v JOIN st ON st.stage = v.stage
    WHERE v.entered_at < $as_end
),
n AS (
    SELECT sid, count(*) AS visits, count(*) FILTER (WHERE done) AS completed,
           greatest(1, count(*) // $km_points) AS block_rows,
           CAST(coalesce(sum(count(*)) OVER (ORDER BY sid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                AS BIGINT) AS before_rows
    FROM v GROUP BY sid
),
ranked AS (
    -- One sort of every visit on a single integer key (stage, duration, finished first) — faster
    -- than a window partitioned by stage. Exact while a funnel has under 128 stages; durations
    -- fit their 55 bits by the clamp above.
    -- Only the key goes through the sort (a quarter faster than carrying sid, dur and done
    -- beside it); they are read back from the key's bits.
    SELECT k >> 56 AS sid, (k & 72057594037927935) >> 1 AS dur, (k & 1) = 0 AS done, rn
    FROM (SELECT k, row_number() OVER (ORDER BY k) AS rn
          FROM (SELECT sid * 72057594037927936 + dur * 2 + CASE WHEN done THEN 0 ELSE 1 END AS k FROM v))
),
terms AS (
    SELECT r.sid, r.dur, n.visits + 1 - (r.rn - n.before_rows) AS at_risk, (r.rn - n.before_rows - 1) // n.block_rows AS b,
           CASE WHEN n.visits - (r.rn - n.before_rows) > 0 THEN ln(1.0 - 1.0 / (n.visits + 1 - (r.rn - n.before_rows)))
                ELSE -1e300 END AS term
    FROM ranked r JOIN n ON n.sid = r.sid
    WHERE r.done
),
blocks AS (SELECT sid, b, sum(term) AS log_sum, max(dur) AS last_dur, count(*) AS done_in_block
           FROM terms GROUP BY sid, b),
cum AS (
    SELECT sid, b, log_sum, last_dur, done_in_block,
           coalesce(sum(log_sum) OVER (PARTITION BY sid ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0.0)
               AS log_before,
           -- finished visits in the stage's earlier blocks: a block holds a run of consecutive
           -- finished ranks, so the percentiles below need to order one block each, not the stage
           CAST(coalesce(sum(done_in_block) OVER (PARTITION BY sid ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING
                                                  AND 1 PRECEDING), 0) AS BIGINT) AS done_before
    FROM blocks
),
-- The Kaplan–Meier median: the first duration at which survival is at or below one half, with a
-- 1e-9 tolerance so an exact 0.5 does not read as 0.5000000001 (metrics.md §2; lifelines' rule).
hit AS (SELECT sid, min(b) AS b FROM cum WHERE log_before + log_sum <= ln(0.5 + 1e-9) GROUP BY sid),
inside AS (
    SELECT t.sid, t.dur,
           c.log_before + sum(t.term) OVER (PARTITION BY t.sid ORDER BY t.at_risk DESC
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS log_s
    FROM terms t JOIN hit h ON h.sid = t.sid AND h.b = t.b JOIN cum c ON c.sid = t.sid AND c.b = t.b
),
km AS (
    -- the block's last duration when rounding kept every partial sum a hair above the line
    SELECT h.sid, coalesce(min(i.dur) FILTER (WHERE i.log_s <= ln(0.5 + 1e-9)), any_value(c.last_dur)) / 3.6e9
               AS km_median_hours
    FROM hit h JOIN cum c ON c.sid = h.sid AND c.b = h.b LEFT JOIN inside i ON i.sid = h.sid
    GROUP BY h.sid
),
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
       s.median_hours, s.p90_hours, km.km_median_hours
FROM st LEFT JOIN summary s ON s.sid = st.sid LEFT JOIN km ON km.sid = st.sid
ORDER BY st.position IS NULL, st.position, st.stage
