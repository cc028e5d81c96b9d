-- name: scenario_list
-- The saved scoring scenarios (metrics.md §5): the current one first, then the newest.
SELECT name, threshold, created_by, created_at, is_current
FROM scoring_scenarios
ORDER BY is_current DESC, created_at DESC
