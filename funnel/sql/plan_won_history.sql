-- name: plan_won_history
-- uses: first_won
-- Deals first won in the 365 days up to D and their mean amount as of the first won event
-- (metrics.md §8 `avg_won_amount`, the won deals behind each won_deals_needed).
-- Reads first_won (deals created by D, first won event by D); with a dimension filter
-- funnel/targets.py adds opportunity_scope (the deals in scope) and keeps first_won's won events
-- to those deals.
-- Parameters: $as_end, $history_start (the midnight starting D − 364, so the window is
-- (D − 365 days, D] in whole days, as the historical win rates' window).
SELECT count(*) AS won_deals,
       avg(fw.amount) AS avg_won_amount
FROM first_won fw
WHERE fw.won_at >= CAST($history_start AS TIMESTAMP)
