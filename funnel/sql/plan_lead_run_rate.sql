-- name: plan_lead_run_rate
-- Leads created in the 90 days up to D (metrics.md §8 run rate: funnel/targets.py turns the count
-- into leads per 30 days, which the leads a plan needs are set against).
-- Parameters: $cohort_start (the midnight starting D − 89), $cohort_end (the midnight after D).
-- funnel/targets.py replaces cohort with the scope's: those dates and its dimension filters.
WITH cohort AS (
    SELECT l.lead_id, l.created_at
    FROM leads l
    WHERE l.created_at >= $cohort_start AND l.created_at < $cohort_end
)
SELECT count(*) AS leads FROM cohort
