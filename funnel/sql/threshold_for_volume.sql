-- name: threshold_for_volume
-- uses: scored_leads
-- The score cut-off T whose MQL count (cohort leads with score >= T, metrics.md §5) is closest to
-- $target, the higher T on a tie: the threshold that keeps today's MQL volume for suggested rules.
-- Every candidate T is a score some lead has: between two of them the count does not change.
-- funnel/scoring.py composes scored_leads without the outcome (no join to lead_reach).
-- Parameters: $target, and those of scored_leads.
WITH by_score AS (SELECT score, count(*) AS n FROM scored_leads GROUP BY score),
cum AS (
    SELECT score, sum(n) OVER (ORDER BY score DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS above
    FROM by_score
)
SELECT score
FROM cum
ORDER BY abs(above - $target), score DESC
LIMIT 1
