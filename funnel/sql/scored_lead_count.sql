-- name: scored_lead_count
-- uses: scored_leads
-- How many cohort leads a scenario scores (metrics.md §5): suggest_rules samples the cohort when
-- this is above its sample size. funnel/scoring.py composes scored_leads without the outcome, so
-- this is one filtered count of the leads table.
-- Parameters: those of scored_leads.
SELECT count(*) AS n FROM scored_leads
