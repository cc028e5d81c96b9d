-- plan_won_history: deals first won in the 365 days up to D and their mean amount as of the
-- first won event (metrics.md §8 `avg_won_amount`).
--
-- Expects CTE fw(opportunity_id, won_at, amount) (first_won.sql: deals in scope created by D,
-- first won event by D) in scope. Binds $history_start (the midnight starting D − 364, so the
-- window is (D − 365 days, D] in whole days, as the historical win rates' window).
SELECT count(*) AS won_deals,
       avg(fw.amount) AS avg_won_amount
FROM fw
WHERE fw.won_at >= CAST($history_start AS TIMESTAMP)
