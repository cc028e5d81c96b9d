-- name: scenario_groups
-- uses: scored_leads
-- A scenario's cohort leads grouped by what every figure of it needs (metrics.md §5): score,
-- outcome and SDR → leads. A few thousand rows at most, whatever the number of leads, so the
-- evaluation, the SDR load, the score distribution and the gains curve each read this small
-- table instead of the leads (scoring.scenario_figures keeps it as a temporary table of that
-- name and runs the four on it: one scan of the leads for the whole page).
SELECT score, outcome, sdr, count(*) AS n
FROM scored_leads
GROUP BY score, outcome, sdr
