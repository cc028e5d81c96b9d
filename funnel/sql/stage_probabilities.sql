-- name: stage_probabilities
-- uses: stage_win_rates
-- The Forecast page's table of stage probabilities at D (metrics.md §4): per open funnel stage,
-- its configured probability, the deals that reached it and closed (won / lost) in the 365 days
-- to D, their historical rate, and the probability the historical method uses — the configured
-- one where fewer than $min_closed deals closed (enough_history false: the page names the stage).
-- Parameters: $as_end, $min_closed, $method (not used by these columns, bound with the rest).
SELECT stage, position, configured_probability, won, lost, closed, historical_rate,
       enough_history, historical_probability
FROM stage_win_rates
ORDER BY position
