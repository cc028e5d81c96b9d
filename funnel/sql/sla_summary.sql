-- name: sla_summary
-- Per stage with an SLA target (metrics.md §2): visits, breaches (completed or still-open visits
-- longer than the target), breach_rate, and how many items are over it right now (over_now).
-- Parameters: $funnel, $as_end, and those of visits — by default the lead cohort's
-- ($cohort_start, $cohort_end); funnel/time_in_stage.py replaces visits for the scope and funnel.
WITH visits AS (
    SELECT v.lead_id AS item_id, v.stage, v.entered_at, v.next_at
    FROM lead_visits v
    WHERE v.created_at >= $cohort_start AND v.created_at < $cohort_end
),
st AS (SELECT stage, position, sla_hours FROM stage_config
       WHERE funnel = $funnel AND kind IN ('open', 'rejected', 'recycled') AND sla_hours IS NOT NULL),
v AS (
    SELECT v.stage, CASE WHEN v.next_at < $as_end THEN 0 ELSE 1 END AS still_open,
           (epoch(CASE WHEN v.next_at < $as_end THEN v.next_at ELSE $as_end END) - epoch(v.entered_at)) / 3600.0 AS hours
    FROM visits v JOIN st ON st.stage = v.stage WHERE v.entered_at < $as_end
),
agg AS (
    SELECT stage, count(*) AS visits,
           count(*) FILTER (WHERE hours > sla_hours) AS breaches,
           count(*) FILTER (WHERE hours > sla_hours AND still_open = 1) AS over_now
    FROM v JOIN st USING (stage) GROUP BY stage
)
SELECT st.stage, st.position, st.sla_hours,
       CAST(coalesce(a.visits, 0) AS BIGINT) AS visits, CAST(coalesce(a.breaches, 0) AS BIGINT) AS breaches,
       a.breaches / NULLIF(a.visits, 0)::DOUBLE AS breach_rate,
       CAST(coalesce(a.over_now, 0) AS BIGINT) AS over_now
FROM st LEFT JOIN agg a ON a.stage = st.stage
ORDER BY st.position IS NULL, st.position, st.stage
