-- targets_won_by_day: won amount and deals per opportunity owner and day of the first won event
-- (metrics.md §7 `won`: the amount as of the deal's first won event, as the backtest's actual).
-- A target's won is then the sum over its owners' rows with won_day in [P0, min(P1, D)]; the
-- same rows draw the cumulative won-by-day chart. Small: owners × days.
--
-- Expects CTEs opps(opportunity_id, owner, …) — the deals in scope, dimension filters through the
-- lead (forecast._opps_cte) — and fw(opportunity_id, won_at, amount) (first_won.sql, deals
-- created by D, first won event by D) in scope. Binds $won_from (first day of the earliest target).
SELECT o.owner,
       CAST(fw.won_at AS DATE) AS won_day,
       count(*) AS won_deals,
       sum(fw.amount) AS won_amount
FROM fw
JOIN opps o ON o.opportunity_id = fw.opportunity_id
WHERE fw.won_at >= CAST($won_from AS TIMESTAMP)
GROUP BY o.owner, CAST(fw.won_at AS DATE)
ORDER BY won_day, o.owner
