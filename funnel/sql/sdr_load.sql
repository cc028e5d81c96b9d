-- name: sdr_load
-- uses: scenario_groups
-- MQLs per week for each SDR under a scenario (metrics.md §5 "MQLs per SDR per week"): the
-- SDR's cohort leads scoring at or above $threshold, and that over the cohort's $weeks (whole
-- days, inclusive, not after D, over 7 — funnel/scoring.py computes it). Leads without an SDR
-- are one row, '(unassigned)', last; the rows add up to the scenario's MQLs.
-- Parameters: $threshold, $weeks, and those of scored_leads.
SELECT coalesce(sdr, '(unassigned)') AS sdr, mqls, mqls / $weeks AS mqls_per_week
FROM (
    SELECT sdr, coalesce(sum(n) FILTER (WHERE score >= $threshold), 0) AS mqls
    FROM scenario_groups
    GROUP BY sdr
) g
ORDER BY g.sdr IS NULL, g.sdr
