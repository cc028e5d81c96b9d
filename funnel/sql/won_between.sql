-- name: won_between
-- uses: opportunity_scope, first_won_at
-- The amount won between two instants: the deal-row amount of the deals in scope whose first won
-- event (first_won_at) falls in [$start, $end_excl) — the weekly review's won this month / this
-- quarter and the actual of a month its forecast history compares with. Summed as DECIMAL: exact.
SELECT coalesce(sum(CAST(fo.amount AS DECIMAL(38, 12))), 0) AS won
FROM first_won_at w
JOIN opportunity_scope fo ON fo.opportunity_id = w.opportunity_id
WHERE w.won_at >= $start AND w.won_at < $end_excl
