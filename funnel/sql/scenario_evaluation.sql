-- name: scenario_evaluation
-- uses: scenario_groups
-- How a scenario would have done on the cohort's history (metrics.md §5): leads, leads above the
-- threshold (score >= $threshold: the MQLs), leads with the outcome, MQLs with the outcome (true
-- positives), the numerator of the ROC AUC and the SDR head-count. funnel/scoring.py divides:
-- precision, recall, AUC, MQLs per week and per SDR per week.
-- AUC is the Mann–Whitney statistic: over all (outcome, no outcome) pairs, the share in which the
-- lead with the outcome scores higher, ties counted half — from the grouped scores, each with the
-- leads without the outcome that score strictly lower (neg_below).
-- Parameters: $threshold, and those of scored_leads.
WITH by_score AS (
    SELECT score, sum(n) AS n, sum(n * outcome) AS pos
    FROM scenario_groups
    GROUP BY score
),
ranked AS (
    SELECT score, n, pos, n - pos AS neg,
           coalesce(sum(n - pos) OVER (ORDER BY score ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               AS neg_below
    FROM by_score
)
SELECT coalesce(sum(n), 0) AS leads,
       coalesce(sum(n) FILTER (WHERE score >= $threshold), 0) AS above,
       coalesce(sum(pos), 0) AS with_outcome,
       coalesce(sum(pos) FILTER (WHERE score >= $threshold), 0) AS true_positives,
       sum(pos * (neg_below + 0.5 * neg)) AS auc_numerator,
       -- SDR head-count does not depend on the rules: the SDRs owning at least one cohort lead
       (SELECT count(DISTINCT sdr) FROM scenario_groups) AS sdrs
FROM ranked
