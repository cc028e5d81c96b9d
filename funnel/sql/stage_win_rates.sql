-- name: stage_win_rates
-- uses: pipeline_state
-- The probability of each open funnel stage, per moment (metrics.md §4).
--
-- Historical method: among opportunities whose won/lost event lies in the 365 days up to the
-- moment ([window_start, state_end): for D that is (D − 365 days, D]), those that entered stage S
-- or a later positioned stage (max_position ≥ position of S; a skipped stage counts as passed);
-- rate = won / (won + lost). With fewer than $min_closed such deals the configured probability is
-- used instead (enough_history is false and the app says so).
--
-- Reads the moments and the deal states of pipeline_state (the closed deals behind the rates are
-- those of the same moments and the same scope). Binds $min_closed and $method ('configured' or
-- 'historical'); p is the probability the chosen method uses, p_configured and p_historical both
-- methods' (the backtest scores the two at once).
WITH open_stages AS (
    SELECT stage, position, probability FROM stage_config
    WHERE funnel = 'opportunity' AND position IS NOT NULL AND kind = 'open'
),
closed_in_window AS (
    -- counted per furthest position first, so the "reached S or later" sums below join a few
    -- rows per moment instead of every closed deal once per stage
    SELECT c.moment_no, c.max_position,
           count(*) FILTER (WHERE c.kind = 'won') AS won, count(*) FILTER (WHERE c.kind = 'lost') AS lost
    FROM pipeline_state c
    WHERE c.kind IN ('won', 'lost') AND c.closed_at >= c.window_start AND c.closed_at < c.state_end
    GROUP BY c.moment_no, c.max_position
),
counts AS (
    SELECT m.moment_no, s.stage, s.position, s.probability AS configured_probability,
           CAST(coalesce(sum(c.won), 0) AS BIGINT) AS won,
           CAST(coalesce(sum(c.lost), 0) AS BIGINT) AS lost,
           CAST(coalesce(sum(c.won + c.lost), 0) AS BIGINT) AS closed
    FROM moments m
    CROSS JOIN open_stages s
    LEFT JOIN closed_in_window c ON c.moment_no = m.moment_no AND c.max_position >= s.position
    GROUP BY m.moment_no, s.stage, s.position, s.probability
),
rated AS (
    SELECT *,
           CASE WHEN closed > 0 THEN CAST(won AS DOUBLE) / closed END AS historical_rate,
           closed >= $min_closed AS enough_history,
           coalesce(configured_probability, 0.0) AS p_configured,
           CASE WHEN closed >= $min_closed THEN CAST(won AS DOUBLE) / closed
                ELSE coalesce(configured_probability, 0.0) END AS historical_probability
    FROM counts
)
SELECT *,
       historical_probability AS p_historical,
       CASE WHEN $method = 'historical' THEN historical_probability ELSE p_configured END AS p
FROM rated
