-- name: forecast_backtest
-- uses: pipeline_state, stage_win_rates, first_won
-- Backtest (metrics.md §4): per moment — the start of each of the last months M before D's month
-- — the forecast made then for the deals with period M, with both methods, against the actual.
-- Forecast: Σ amount × probability over the deals open at the 1st of M whose period is M (a deal
-- whose close date is before the 1st of M counts in M), with the state and the historical rates
-- as known at that moment. Actual: the amount as of the won event of the deals whose first won
-- event by D falls in M (first_won). Sums as DECIMAL: exact in any order, on either engine.
--
-- funnel/forecast.py sets the moments to the months' starts; run alone, the one moment is D (the
-- forecast for D's month made at the end of D, against what was won in it by D).
-- Parameters: $as_end, $min_closed, $method (not used by these columns, bound with the rest).
WITH fc AS (
    SELECT st.moment_no, count(*) AS open_deals,
           sum(CAST(st.amount * coalesce(rates.p_configured, 0.0) AS DECIMAL(38, 12))) AS configured,
           sum(CAST(st.amount * coalesce(rates.p_historical, 0.0) AS DECIMAL(38, 12))) AS historical
    FROM pipeline_state st
    LEFT JOIN stage_win_rates rates ON rates.moment_no = st.moment_no AND rates.stage = st.stage
    WHERE st.kind = 'open' AND st.period = st.overdue_period
    GROUP BY st.moment_no
),
act AS (
    SELECT CAST(date_trunc('month', won_at) AS DATE) AS period, sum(CAST(amount AS DECIMAL(38, 12))) AS actual
    FROM first_won
    GROUP BY 1
)
SELECT m.moment_no, m.overdue_period AS period, coalesce(fc.open_deals, 0) AS open_deals,
       coalesce(fc.configured, 0.0) AS configured, coalesce(fc.historical, 0.0) AS historical,
       coalesce(act.actual, 0.0) AS actual
FROM moments m
LEFT JOIN fc ON fc.moment_no = m.moment_no
LEFT JOIN act ON act.period = m.overdue_period
ORDER BY m.moment_no
