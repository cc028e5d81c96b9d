-- name: stored_rules
-- The production scoring rules (metrics.md §5), in the order they were entered: rule numbers in
-- error messages and the points parameters ($pts1, …) follow this order.
SELECT attribute, operator, value, points, enabled, rule_group
FROM scoring_rules
ORDER BY rule_id
