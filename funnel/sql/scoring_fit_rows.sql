-- name: scoring_fit_rows
-- uses: scored_leads
-- The rows the rule suggestion fits its logistic regression on (metrics.md §5): each cohort
-- lead's outcome and attribute values, ordered by lead id so the fit sees the same rows in the
-- same order on every run.
-- funnel/scoring.py adds the attribute columns to scored_leads as f_0, f_1, … (names from the
-- leads table's own column list) and here as f_i AS "column", and keeps a hash sample of about
-- 50,000 cohort leads when there are more (hash(lead_id) % 10000 < $sample_buckets).
-- Parameters: those of scored_leads.
SELECT outcome
FROM scored_leads
ORDER BY lead_id
