-- name: category_rollup
-- uses: open_deals, pipeline_state
-- The forecast categories for D's month and D's quarter (metrics.md §4), the horizons the page's
-- roll-up shows: closed = deals won from the horizon's first day to D (by when they closed),
-- and the open amount by category of the deals whose period falls in the horizon (overdue deals
-- count in D's month, so in both). funnel/forecast.py adds the labels and cumulative roll-ups.
-- Parameters: as open_deals, and the horizons' bounds (end exclusive): $month_start, $month_end,
-- $quarter_start, $quarter_end.
WITH horizons(horizon, start_date, end_date) AS (
    VALUES ('month', CAST($month_start AS DATE), CAST($month_end AS DATE)),
           ('quarter', CAST($quarter_start AS DATE), CAST($quarter_end AS DATE))
),
open_cat AS (
    SELECT h.horizon,
           sum(CAST(d.amount AS DECIMAL(38, 12))) FILTER (WHERE d.category = 'commit') AS commit,
           sum(CAST(d.amount AS DECIMAL(38, 12))) FILTER (WHERE d.category = 'best_case') AS best_case,
           sum(CAST(d.amount AS DECIMAL(38, 12))) FILTER (WHERE d.category = 'pipeline' OR d.category IS NULL
                                                   OR d.category NOT IN ('commit', 'best_case', 'omitted')) AS pipeline,
           sum(CAST(d.amount AS DECIMAL(38, 12))) FILTER (WHERE d.category = 'omitted') AS omitted
    FROM horizons h
    JOIN open_deals d ON d.period >= h.start_date AND d.period < h.end_date
    GROUP BY h.horizon
),
won_in_horizon AS (
    SELECT h.horizon, sum(CAST(st.amount AS DECIMAL(38, 12))) AS closed_won
    FROM horizons h
    JOIN pipeline_state st ON st.kind = 'won' AND st.closed_at >= h.start_date AND st.closed_at < h.end_date
    GROUP BY h.horizon
)
SELECT h.horizon, h.start_date AS start,
       coalesce(w.closed_won, 0) AS closed_won, coalesce(o.commit, 0) AS commit,
       coalesce(o.best_case, 0) AS best_case, coalesce(o.pipeline, 0) AS pipeline,
       coalesce(o.omitted, 0) AS omitted
FROM horizons h
LEFT JOIN open_cat o ON o.horizon = h.horizon
LEFT JOIN won_in_horizon w ON w.horizon = h.horizon
ORDER BY h.start_date DESC
