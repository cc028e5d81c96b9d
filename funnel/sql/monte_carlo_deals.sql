-- name: monte_carlo_deals
-- uses: open_deals
-- The deals the forecast's ranges simulate (metrics.md §4, Ranges): each deal open at D with its
-- amount, the method's probability, its period and whether it is overdue. Each is won
-- independently with its probability in every run (funnel/forecast.py draws the runs).
--
-- The order is the order the random draws are made in: by period, then id. It must not change —
-- a deal's draws, hence every range, depend on it, and the Spark engine gives the same ranges
-- only because it returns the deals in the same order. For the targets' per-owner split
-- (metrics.md §7) funnel/forecast.py adds the deal's owner, joined from opportunity_scope: the
-- same rows in the same order.
-- Parameters: as open_deals.
SELECT d.amount, d.probability, d.period, d.overdue
FROM open_deals d
ORDER BY d.period, d.opportunity_id
