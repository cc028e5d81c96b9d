-- name: score_leads
-- uses: scored_leads
-- The cohort's leads with their score under a scenario and their outcome (metrics.md §5),
-- highest score first (ties by lead id, so the order is the same on every run).
-- funnel/scoring.py adds LIMIT $limit when a caller wants only the top leads.
-- Parameters: those of scored_leads.
SELECT lead_id, created_at, sdr, score, outcome
FROM scored_leads
ORDER BY score DESC, lead_id
