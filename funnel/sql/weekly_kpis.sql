-- name: weekly_kpis
-- uses: opportunity_scope, first_won_at
-- The weekly review's KPIs per week (funnel/overview.py): week k = 0 is the 7 days up to the end
-- of D, k = 1 the 7 before, … up to $weeks weeks — rolling windows, counted by when each thing
-- happened. The dimension filters apply (funnel/overview.py sets them on leads_in_scope and
-- opportunity_scope); the cohort's dates do not. Per week:
--   new_leads        leads created;
--   mqls / rejected  hand-offs (entries into the hand-off stage $handoff, each entry counts) and
--                    entries into a rejected stage (metrics.md §3, counted in the week they happen);
--   sqls             leads first reaching the SQL position $sql_pos or a later one (lead_reach);
--   pipeline_created amount of the deals created (the deal row's amount);
--   won_amount / won_deals  deals first won in the week (first_won_at) and their deal-row amount.
-- Every week from 0 to $weeks − 1 has a row, with zeros when nothing happened; newest last.
-- Parameters: $as_end, $weeks, $handoff, $sql_pos (NULL when the funnel has no SQL stage).
WITH leads_in_scope AS (
    SELECT l.lead_id, l.created_at FROM leads l
),
wk AS (
    -- the weeks 0 … $weeks − 1, as a list unnested (the range table function's column has no name
    -- on Spark, which reads this as explode(sequence(…)))
    SELECT unnest(range(0, $weeks)) AS k
),
activity AS (
    -- every counted thing with the week it falls in (604800 = the seconds of 7 days)
    SELECT CAST(floor((epoch($as_end) - epoch(ts)) / 604800) AS INTEGER) AS k, what, amount FROM (
        SELECT fl.created_at AS ts, 'lead' AS what, NULL::DOUBLE AS amount FROM leads_in_scope fl
        UNION ALL SELECT e.entered_at, CASE WHEN e.stage = $handoff THEN 'mql' ELSE 'rejected' END, NULL
            FROM lead_events e
            JOIN leads_in_scope fl ON fl.lead_id = e.lead_id
            JOIN stage_config s ON s.funnel = 'lead' AND s.stage = e.stage
            WHERE e.stage = $handoff OR s.kind = 'rejected'
        UNION ALL SELECT rr.first_reached_at, 'sql', NULL
            FROM lead_reach rr
            JOIN leads_in_scope fl ON fl.lead_id = rr.lead_id
            WHERE rr.position = $sql_pos
        UNION ALL SELECT fo.created_at, 'created', fo.amount FROM opportunity_scope fo
        UNION ALL SELECT w.won_at, 'won', fo.amount
            FROM first_won_at w
            JOIN opportunity_scope fo ON fo.opportunity_id = w.opportunity_id
    ) x
    WHERE ts < $as_end AND ts >= $as_end - CAST($weeks AS INTEGER) * INTERVAL 7 DAY
)
SELECT wk.k,
       count(*) FILTER (WHERE what = 'lead') AS new_leads,
       count(*) FILTER (WHERE what = 'mql') AS mqls,
       count(*) FILTER (WHERE what = 'sql') AS sqls,
       count(*) FILTER (WHERE what = 'rejected') AS rejected,
       coalesce(sum(CAST(amount AS DECIMAL(38, 12))) FILTER (WHERE what = 'created'), 0) AS pipeline_created,
       coalesce(sum(CAST(amount AS DECIMAL(38, 12))) FILTER (WHERE what = 'won'), 0) AS won_amount,
       count(*) FILTER (WHERE what = 'won') AS won_deals
FROM wk
LEFT JOIN activity ON activity.k = wk.k
GROUP BY wk.k
ORDER BY wk.k DESC
