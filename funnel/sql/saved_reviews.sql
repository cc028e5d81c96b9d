-- name: saved_reviews
-- The saved weekly reviews, oldest as-of date first: who saved each, for which as-of date and
-- filters, and its headline figures (JSON) — what the review compares today's forecast with and
-- what the forecast history plots.
SELECT snapshot_id, saved_at, saved_by, as_of, filters_json, figures_json
FROM review_snapshots
ORDER BY as_of
