-- name: transition_flows
-- Every stage-to-stage transition of the cohort's leads known at D, backward ones included (a
-- rejection sends a lead back, metrics.md §3), counted for the Sankey of recycle loops:
-- from_stage, to_stage, transitions. Known at D: the second event of the transition lies before
-- the end of D (the first one precedes it).
-- Parameters: $cohort_start, $cohort_end, $as_end.
-- funnel/rejections.py replaces cohort for the scope's filters, and drops the join to it when
-- the cohort is every lead in the database (then the join only costs time).
WITH cohort AS (
    SELECT l.lead_id
    FROM leads l
    WHERE l.created_at >= $cohort_start AND l.created_at < $cohort_end
)
SELECT v.stage AS from_stage, v.next_stage AS to_stage, count(*) AS transitions
FROM lead_visits v JOIN cohort c ON c.lead_id = v.lead_id
WHERE v.next_at < $as_end
GROUP BY 1, 2
ORDER BY transitions DESC, from_stage, to_stage
