-- name: weighted_forecast
-- uses: open_deals
-- The weighted forecast (metrics.md §4) per close month and stage: open deals, open amount and
-- weighted amount (Σ amount × the method's probability). Overdue deals count in D's month. The
-- quarter ('2026-Q4') lets funnel/forecast.py roll months up without another query. Sums as
-- DECIMAL: exact whatever the order rows are added in.
-- Parameters: as open_deals.
SELECT period,
       CAST(year(period) AS VARCHAR) || '-Q' || CAST(quarter(period) AS VARCHAR) AS quarter,
       stage, position,
       count(*) AS open_deals,
       sum(CAST(amount AS DECIMAL(38, 12))) AS open_amount,
       sum(CAST(weighted_amount AS DECIMAL(38, 12))) AS weighted_amount
FROM open_deals
GROUP BY period, stage, position
ORDER BY period, position
