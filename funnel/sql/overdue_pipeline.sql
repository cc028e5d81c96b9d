-- name: overdue_pipeline
-- uses: open_deals
-- The open deals at D whose close date is already past (metrics.md §4: they count in D's month):
-- how many and their open amount — the Overview's risk highlight. The amount is summed as
-- DECIMAL so the figure does not depend on the order rows are added in (DuckDB and Spark agree).
-- Parameters: as open_deals.
SELECT count(*) AS deals,
       coalesce(sum(CAST(amount AS DECIMAL(38, 12))), 0) AS amount
FROM open_deals
WHERE overdue
