-- name: funnel_stages
-- The stages a lead moves through in order (metrics.md §1): the lead funnel's positioned stages
-- of kind open or won. Reaching one means reaching its position or a later one. The one
-- definition every conversion query reads (lead_reach in funnel/store.py is built on the same rule).
SELECT stage, position
FROM stage_config
WHERE funnel = 'lead' AND position IS NOT NULL AND kind IN ('open', 'won')
