-- name: saved_scenario
-- One saved scoring scenario's rules (JSON) and threshold, by its name (no row: none of that name).
-- Parameters: $name.
SELECT rules_json, threshold
FROM scoring_scenarios
WHERE name = $name
