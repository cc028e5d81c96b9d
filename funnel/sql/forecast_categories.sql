-- name: forecast_categories
-- uses: open_deals, pipeline_state
-- Forecast categories per close month from D's month on (metrics.md §4): the amount won in the
-- month (deals in a won stage at D, by the month they closed in) and the open amount by the
-- category of each deal's current stage — commit, best case, pipeline (also any stage without a
-- known category) and omitted. Overdue deals count in D's month. funnel/forecast.py adds the
-- roll-ups (Closed + Commit, + Best case, + every open deal).
-- Parameters: as open_deals, and $month_start (the first day of D's month).
WITH open_cat AS (
    SELECT period,
           sum(CAST(amount AS DECIMAL(38, 12))) FILTER (WHERE category = 'commit') AS commit,
           sum(CAST(amount AS DECIMAL(38, 12))) FILTER (WHERE category = 'best_case') AS best_case,
           sum(CAST(amount AS DECIMAL(38, 12))) FILTER (WHERE category = 'pipeline' OR category IS NULL
                                                   OR category NOT IN ('commit', 'best_case', 'omitted')) AS pipeline,
           sum(CAST(amount AS DECIMAL(38, 12))) FILTER (WHERE category = 'omitted') AS omitted
    FROM open_deals
    GROUP BY period
),
won_in_period AS (
    SELECT CAST(date_trunc('month', closed_at) AS DATE) AS period,
           sum(CAST(amount AS DECIMAL(38, 12))) AS closed_won
    FROM pipeline_state
    WHERE kind = 'won'
    GROUP BY 1
)
SELECT coalesce(o.period, w.period) AS period,
       coalesce(w.closed_won, 0) AS closed_won, coalesce(o.commit, 0) AS commit,
       coalesce(o.best_case, 0) AS best_case, coalesce(o.pipeline, 0) AS pipeline,
       coalesce(o.omitted, 0) AS omitted
FROM open_cat o
FULL OUTER JOIN won_in_period w ON w.period = o.period
WHERE coalesce(o.period, w.period) >= $month_start
ORDER BY period
