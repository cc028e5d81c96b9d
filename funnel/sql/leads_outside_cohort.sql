-- name: leads_outside_cohort
-- How many leads of the database lie outside the cohort's dates. None means the cohort is every
-- lead: the rejection queries then drop their join to the cohort, which on the common unfiltered
-- view is most of their cost (funnel/rejections.py asks only when no dimension filter is set).
-- A scan of one column, far cheaper than the join it saves.
-- Parameters: $cohort_start, $cohort_end.
SELECT count(*) AS outside
FROM leads l
WHERE NOT (l.created_at >= $cohort_start AND l.created_at < $cohort_end)
