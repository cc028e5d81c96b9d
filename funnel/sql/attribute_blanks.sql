-- name: attribute_blanks
-- uses: scored_leads
-- For the leak check of the rule suggestion (metrics.md §5): per lead attribute column, the share
-- of blanks among cohort leads with the outcome (pos_i) and among those without (neg_i). A field
-- filled in only once sales worked a lead is blank almost only for leads without the outcome —
-- scoring on it would learn the outcome from the outcome. Every column in one scan.
-- funnel/scoring.py adds the columns it checks to scored_leads as f_0, f_1, … (names from the
-- leads table's own column list) and writes one pos_i / neg_i pair per column here, over a hash
-- sample of the cohort when it is large; this default checks channel.
-- Parameters: those of scored_leads.
SELECT avg(CASE WHEN channel IS NULL THEN 1.0 ELSE 0.0 END) FILTER (WHERE outcome = 1) AS pos_0,
       avg(CASE WHEN channel IS NULL THEN 1.0 ELSE 0.0 END) FILTER (WHERE outcome = 0) AS neg_0
FROM scored_leads
