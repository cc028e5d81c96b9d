-- name: survival_curves
-- uses: time_in_stage
-- Kaplan–Meier survival per stage (metrics.md §2): stage, hours, survival, at_risk, at each
-- block's last exit time (about $km_points points per stage; every exit time on small data),
-- survival exact at each. Reads the Kaplan–Meier CTEs of time_in_stage (st, terms, cum), so the
-- same parameters and the same visits.
-- A block's last exit time is a point of the curve; a tie spanning blocks is one point, taken
-- from its first block. Exits at that time ranked into later blocks still belong to it; the first
-- exit ranked at a time carries its at-risk count (finished visits rank before open ones).
WITH ends AS (SELECT sid, last_dur, min(b) AS b FROM cum GROUP BY sid, last_dur),
tie AS (
    SELECT e.sid, e.b, coalesce(sum(t.term) FILTER (WHERE t.b > e.b), 0.0) AS spill, max(t.at_risk) AS at_risk
    FROM ends e JOIN terms t ON t.sid = e.sid AND t.dur = e.last_dur
    GROUP BY e.sid, e.b
),
curve AS (
    SELECT st.stage, e.last_dur / 3.6e9 AS hours,
           CASE WHEN c.log_before + c.log_sum + t.spill < -700 THEN 0.0
                ELSE exp(c.log_before + c.log_sum + t.spill) END AS survival,
           t.at_risk
    FROM ends e JOIN cum c ON c.sid = e.sid AND c.b = e.b JOIN tie t ON t.sid = e.sid AND t.b = e.b
    JOIN st ON st.sid = e.sid
)
SELECT * FROM curve
ORDER BY stage, hours
