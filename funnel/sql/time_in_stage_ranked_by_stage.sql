-- name: time_in_stage_ranked_by_stage
-- uses: time_in_stage
-- time_in_stage's ranking of the visits (its `ranked` CTE: sid, dur, done, rn) computed in many
-- small parts, for an engine that spreads rows over many tasks (Spark). The embedded ranking is
-- one row_number() over a single sort key, fastest on DuckDB but on Spark a global window: every
-- visit goes through one task. Here each stage's durations are cut into bins that keep their
-- order — eighths of a power of two, floor(8 · log2(µs + 1)), about 55 bins between an hour and
-- a year — and each (stage, bin) is ordered on its own task; a visit's rank is its rank in its
-- bin plus the visits of the earlier bins of its stage (a running sum over a few hundred bin
-- counts) plus those of the earlier stages (n.before_rows). That is the global rank: shortest
-- first and, at equal durations, finished before still-open (done DESC: TRUE first). Equal
-- durations always share a bin, and visits tied on all three are interchangeable, so which of
-- them takes which rank changes no figure. How an engine rounds log2 moves a bin edge, never the
-- order, so the ranks are the same on both engines.
-- funnel/time_in_stage.py puts this in place of `ranked` when the connection scales out.
SELECT b.sid, b.dur, b.done,
       n.before_rows + c.before_in_stage
           + row_number() OVER (PARTITION BY b.sid, b.bin ORDER BY b.dur, b.done DESC) AS rn
FROM (SELECT sid, dur, done, CAST(floor(8 * log2(dur + 1)) AS BIGINT) AS bin FROM v) b
JOIN (
    -- visits per (stage, bin), and those of the stage's earlier bins
    SELECT sid, bin,
           CAST(coalesce(sum(count(*)) OVER (PARTITION BY sid ORDER BY bin
                                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS BIGINT)
               AS before_in_stage
    FROM (SELECT sid, CAST(floor(8 * log2(dur + 1)) AS BIGINT) AS bin FROM v)
    GROUP BY sid, bin
) c ON c.sid = b.sid AND c.bin = b.bin
JOIN n ON n.sid = b.sid
