-- name: opportunity_scope
-- The opportunities in scope (metrics.md §4): not tied to the lead cohort's dates (a pipeline is
-- a pipeline). funnel/query.py adds, for a scope with dimension filters, the join to each deal's
-- lead and the filters on it — so an unlinked deal drops out only when a dimension filter is set —
-- and, for a reading at D alone, created_at < $as_end (the forecast's moments each keep only the
-- deals created before them). The one definition of the `opps` CTE.
SELECT o.opportunity_id, o.lead_id, o.account, o.created_at, o.amount, o.close_date, o.owner, o.segment, o.product
FROM opportunities o
