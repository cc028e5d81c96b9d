-- name: gains_curve
-- uses: scenario_groups
-- Cumulative gains of a scenario (metrics.md §5), one row per score cut-off, highest first:
-- score, leads_at_or_above, share_of_leads, share_of_outcomes (the share of all leads with the
-- outcome that score at or above it), lift = share_of_outcomes / share_of_leads.
-- Leads with equal scores enter together (no arbitrary order inside a tie, which would invent
-- ranking the rules do not make). With many distinct scores, about $points cut-offs are kept —
-- the lowest score of each equal slice of leads, so the last cut-off (every lead) always is.
-- Parameters: $points, and those of scored_leads.
WITH by_score AS (
    SELECT score, sum(n) AS n, sum(n * outcome) AS pos
    FROM scenario_groups
    GROUP BY score
),
cum AS (
    SELECT score, (sum(n) OVER w)::BIGINT AS leads_at_or_above, sum(pos) OVER w AS outcomes_at_or_above,
           sum(n) OVER () AS total, sum(pos) OVER () AS total_pos
    FROM by_score
    WINDOW w AS (ORDER BY score DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
shares AS (
    SELECT score, leads_at_or_above, leads_at_or_above / total::DOUBLE AS share_of_leads,
           outcomes_at_or_above / NULLIF(total_pos, 0)::DOUBLE AS share_of_outcomes
    FROM cum
)
SELECT score, leads_at_or_above, share_of_leads, share_of_outcomes,
       share_of_outcomes / share_of_leads AS lift
FROM shares
QUALIFY row_number() OVER (PARTITION BY floor(share_of_leads * $points) ORDER BY score) = 1
ORDER BY score DESC
