-- name: stored_teams
-- The teams: which opportunity owners a target on a team name counts (metrics.md §7).
SELECT owner, team
FROM teams
ORDER BY team, owner
