-- name: time_in_stage_ranked_by_stage
-- uses: time_in_stage
-- time_in_stage's ranking of the visits (its `ranked` CTE: sid, dur, done, rn) computed stage by
-- stage, for an engine that spreads rows over many tasks (Spark). The embedded ranking is one
-- row_number() over a single sort key, fastest on DuckDB but on Spark a global window: every
-- visit goes through one task. Here the window is partitioned by stage, so each stage's visits
-- are ordered on a task of their own, and the rank is offset by the rows of the stages before
-- (n.before_rows) to give the same rn as the global ranking: shortest first and, at equal
-- durations, finished before still-open (done DESC: TRUE first). Visits tied on all three are
-- interchangeable, so which of them takes which rank changes no figure.
-- funnel/time_in_stage.py puts this in place of `ranked` when the connection scales out.
SELECT v.sid, v.dur, v.done,
       n.before_rows + row_number() OVER (PARTITION BY v.sid ORDER BY v.dur, v.done DESC) AS rn
FROM v JOIN n ON n.sid = v.sid
