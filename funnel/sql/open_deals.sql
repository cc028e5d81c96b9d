-- name: open_deals
-- uses: pipeline_state, stage_win_rates
-- The deals open at each moment, with the probability the chosen method ($method) gives their
-- stage at that moment and their weighted amount = amount × probability (metrics.md §4). Every
-- open-pipeline figure of the forecast starts here: the deal list, the weighted forecast, the
-- overdue deals, the categories and the Monte Carlo's deals, so they cannot disagree.
--
-- days_overdue: by how many days an overdue deal's close date lies before D (NULL when it is not
-- overdue). A stage without a probability (no configured value) weighs 0.
-- Parameters: $as_end (the default moment D), $method, $min_closed.
SELECT st.moment_no, st.opportunity_id, st.stage, st.position, st.category, st.amount, st.close_date,
       st.created_at, st.overdue,
       CASE WHEN st.overdue THEN CAST(st.overdue_before - st.close_date AS INTEGER) END AS days_overdue,
       st.period,
       coalesce(rates.p, 0.0) AS probability,
       st.amount * coalesce(rates.p, 0.0) AS weighted_amount
FROM pipeline_state st
LEFT JOIN stage_win_rates rates ON rates.moment_no = st.moment_no AND rates.stage = st.stage
WHERE st.kind = 'open'
