-- name: time_in_stage_and_curves
-- uses: time_in_stage, survival_curves
-- time_in_stage's rows and survival_curves' rows from one ranking of the visits (what the Time in
-- stage page draws, at the cost of one of the two), in one table: a stage row has no hours, a
-- curve row has no visits. Parameters as time_in_stage.
SELECT stage, position, kind, visits, completed, censored, median_hours, p90_hours, km_median_hours,
       NULL AS hours, NULL AS survival, NULL AS at_risk
FROM time_in_stage
UNION ALL
SELECT stage, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, hours, survival, at_risk
FROM survival_curves
