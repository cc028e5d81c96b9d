-- name: pipeline_changes
-- uses: pipeline_state, stage_win_rates
-- The waterfall of the open pipeline between two moments (metrics.md §4): from the first moment
-- (moment 0, the end of d1) to the last (the end of d2). The pipeline at a moment is the open
-- amount of the deals whose period (overdue deals count in that moment's month) starts on or
-- before $horizon_end (NULL: no limit); funnel/forecast.py swaps in the weighted amount, with the
-- method's probabilities at the last moment applied at both, so a stage move changes the value.
--
-- Each deal's change is attributed to one step, in this order, so the steps add up exactly from
-- start to end: won / lost (open at the start, closed at the end: its start value leaves); new
-- (not open at the start, open now: its end value); pulled in / pushed out (crossed the
-- horizon); then for deals in both: the stage move at the old amount (advanced / moved back —
-- zero unless weighted) and the amount change at the new probability (amount up / down).
--
-- Run alone it has the one default moment D, so both ends are D and nothing changes.
-- Parameters: $as_end, $method, $min_closed, $horizon_end.
WITH p_end AS (
    -- the probabilities of the last moment, used at both ends
    SELECT stage, p FROM stage_win_rates WHERE moment_no = (SELECT max(moment_no) FROM moments)
),
o AS (
    SELECT st.moment_no, st.opportunity_id, st.amount, st.position, st.period,
           coalesce(p_end.p, 0.0) AS probability, st.amount * coalesce(p_end.p, 0.0) AS weighted_amount
    FROM pipeline_state st
    LEFT JOIN p_end ON p_end.stage = st.stage
    WHERE st.kind = 'open'
),
a AS (SELECT * FROM o WHERE moment_no = 0),
b AS (SELECT * FROM o WHERE moment_no = (SELECT max(moment_no) FROM moments)),
kb AS (
    -- every deal's kind at the end (a deal open at the start is won or lost by then, or open)
    SELECT opportunity_id, kind FROM pipeline_state WHERE moment_no = (SELECT max(moment_no) FROM moments)
),
j AS (
    -- one row per deal open at either end: in the pipeline at each end, its value at each, and
    -- what a stage move (stage_move) and an amount change (amount_change) are worth
    SELECT a.opportunity_id IS NOT NULL AND a.period <= coalesce(CAST($horizon_end AS DATE), a.period) AS in_a,
           b.opportunity_id IS NOT NULL AND b.period <= coalesce(CAST($horizon_end AS DATE), b.period) AS in_b,
           a.opportunity_id IS NOT NULL AS open_a, b.opportunity_id IS NOT NULL AS open_b,
           coalesce(a.amount, 0) AS v_a, coalesce(b.amount, 0) AS v_b,
           a.amount AS amt_a, b.amount AS amt_b,
           a.position AS pos_a, b.position AS pos_b, kb.kind AS kind_b,
           0.0 AS stage_move,
           b.amount - a.amount AS amount_change
    FROM a
    FULL OUTER JOIN b ON a.opportunity_id = b.opportunity_id
    LEFT JOIN kb ON kb.opportunity_id = coalesce(a.opportunity_id, b.opportunity_id)
),
steps AS (
    SELECT 'won' AS step, -v_a AS amount FROM j WHERE in_a AND NOT open_b AND kind_b = 'won'
    UNION ALL SELECT 'lost', -v_a FROM j WHERE in_a AND NOT open_b AND coalesce(kind_b, 'lost') <> 'won'
    UNION ALL SELECT 'new', v_b FROM j WHERE in_b AND NOT open_a
    UNION ALL SELECT 'pulled in', v_b FROM j WHERE in_b AND open_a AND NOT in_a
    UNION ALL SELECT 'pushed out', -v_a FROM j WHERE in_a AND open_b AND NOT in_b
    UNION ALL SELECT CASE WHEN pos_b > pos_a THEN 'advanced' ELSE 'moved back' END, stage_move
              FROM j WHERE in_a AND in_b AND pos_b IS DISTINCT FROM pos_a
    UNION ALL SELECT CASE WHEN amt_b > amt_a THEN 'amount up' ELSE 'amount down' END, amount_change
              FROM j WHERE in_a AND in_b AND amt_b <> amt_a
)
SELECT 'start' AS step, (SELECT coalesce(sum(CAST(v_a AS DECIMAL(38, 12))), 0) FROM j WHERE in_a) AS amount,
       (SELECT count(*) FROM j WHERE in_a) AS deals
UNION ALL
SELECT step, sum(CAST(amount AS DECIMAL(38, 12))), count(*) FROM steps GROUP BY step
UNION ALL
SELECT 'end', (SELECT coalesce(sum(CAST(v_b AS DECIMAL(38, 12))), 0) FROM j WHERE in_b),
       (SELECT count(*) FROM j WHERE in_b)
