-- name: first_won_at
-- When each opportunity was first won: the earliest event into a stage of kind won, whenever it
-- happened (a reader bounds it by D itself). The weekly review's won deals (funnel/overview.py)
-- count by this moment and take the amount on the deal row — unlike first_won, the backtest's and
-- the targets' actual, which takes the amount as of the won event (metrics.md §4, §7).
SELECT e.opportunity_id, min(e.entered_at) AS won_at
FROM opportunity_events e
JOIN stage_config s ON s.funnel = 'opportunity' AND s.stage = e.stage AND s.kind = 'won'
GROUP BY 1
