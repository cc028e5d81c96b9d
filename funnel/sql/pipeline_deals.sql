-- name: pipeline_deals
-- uses: opportunity_scope, open_deals
-- Every deal open at D, as the Forecast page lists them (metrics.md §4): its descriptive columns
-- (lead, account, owner, segment, product — joined back here, not carried through the state),
-- stage, category, amount and close date as known at D, whether it is overdue and by how many
-- days, its period (overdue deals count in D's month), probability and weighted amount.
-- Sorted by close date, then the largest amounts first; the id breaks ties so the order is stable.
-- Parameters: as open_deals.
SELECT d.opportunity_id, o.lead_id, o.account, o.owner, o.segment, o.product, d.stage, d.position,
       d.category, d.amount, d.close_date, d.created_at, d.overdue, d.days_overdue, d.period,
       d.probability, d.weighted_amount
FROM open_deals d
JOIN opportunity_scope o ON o.opportunity_id = d.opportunity_id
ORDER BY d.close_date, d.amount DESC, d.opportunity_id
