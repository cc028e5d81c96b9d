-- plan_lead_run_rate: leads created in the 90 days up to D (metrics.md §8 run rate; the caller
-- turns it into leads per 30 days).
--
-- Expects CTE cohort(lead_id, created_at) in scope: the leads created from D − 89 to D that pass
-- the dimension filters (query.cohort_cte on a scope with those dates).
SELECT count(*) AS leads FROM cohort
