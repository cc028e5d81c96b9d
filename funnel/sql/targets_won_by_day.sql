-- name: targets_won_by_day
-- uses: opportunity_scope, first_won
-- Won amount and deals per opportunity owner and day of the first won event (metrics.md §7
-- `won`: the amount as of the deal's first won event, as the backtest's actual). A target's won
-- is then the sum over its owners' rows with won_day in [P0, min(P1, D)]; the same rows draw the
-- cumulative won-by-day chart. Small: owners × days.
-- Reads first_won (deals created by D, first won event by D) and opportunity_scope (the deals in
-- scope, for their owner). funnel/targets.py sets opportunity_scope for the scope's dimension
-- filters (through each deal's lead) and then keeps first_won's won events to those deals.
-- Parameters: $as_end, $won_from (the first day of the earliest target's period).
SELECT o.owner,
       CAST(fw.won_at AS DATE) AS won_day,
       count(*) AS won_deals,
       sum(fw.amount) AS won_amount
FROM first_won fw
JOIN opportunity_scope o ON o.opportunity_id = fw.opportunity_id
WHERE fw.won_at >= CAST($won_from AS TIMESTAMP)
GROUP BY o.owner, CAST(fw.won_at AS DATE)
ORDER BY won_day, o.owner
