-- name: deal_states
-- uses: opportunity_scope, pipeline_state
-- Every deal existing at D — open, won or lost — with its state reconstructed as of D
-- (metrics.md §4: stage, amount and close date from its events up to D), its descriptive
-- columns joined back, the furthest stage it reached and when it closed. What the consistency
-- checks and exports read; one row per deal, by id.
-- Parameters: $as_end.
SELECT d.opportunity_id, o.lead_id, o.account, o.owner, o.segment, o.product,
       d.created_at, d.stage, d.kind, d.position, d.probability, d.category,
       d.amount, d.close_date, d.max_position, d.last_event_at, d.closed_at,
       d.overdue, d.period
FROM pipeline_state d
JOIN opportunity_scope o ON o.opportunity_id = d.opportunity_id
ORDER BY d.opportunity_id
