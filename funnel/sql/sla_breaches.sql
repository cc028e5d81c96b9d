-- name: sla_breaches
-- Per stage with an SLA target and month of entry (metrics.md §2): visits, visits over the target
-- (completed or still open), breach_rate. A censored visit already longer than its target is a
-- breach; a shorter censored one is not (yet).
-- Parameters: $funnel, $as_end, and those of visits — by default the lead cohort's
-- ($cohort_start, $cohort_end). funnel/time_in_stage.py replaces visits for the scope and funnel,
-- and grain with the period column of v for weeks.
WITH grain AS (SELECT INTERVAL 1 MONTH AS period_length),
visits AS (
    SELECT v.lead_id AS item_id, v.stage, v.entered_at, v.next_at
    FROM lead_visits v
    WHERE v.created_at >= $cohort_start AND v.created_at < $cohort_end
),
st AS (SELECT stage, position, sla_hours FROM stage_config
       WHERE funnel = $funnel AND kind IN ('open', 'rejected', 'recycled') AND sla_hours IS NOT NULL),
v AS (
    SELECT v.stage, st.position, st.sla_hours, date_trunc('month', v.entered_at) AS period,
           (epoch(CASE WHEN v.next_at < $as_end THEN v.next_at ELSE $as_end END) - epoch(v.entered_at)) / 3600.0 AS hours
    FROM visits v JOIN st ON st.stage = v.stage WHERE v.entered_at < $as_end
)
SELECT stage, position, period, max(sla_hours) AS sla_hours, count(*) AS visits,
       count(*) FILTER (WHERE hours > sla_hours) AS breaches,
       count(*) FILTER (WHERE hours > sla_hours) / count(*)::DOUBLE AS breach_rate,
       -- complete: every visit of the period has had its full target time by the end of D, so
       -- the rate can no longer rise (a younger period's open visits may still cross the target)
       CAST(period AS TIMESTAMP) + (SELECT period_length FROM grain) + max(sla_hours) * INTERVAL 1 HOUR <= $as_end
           AS complete
FROM v
GROUP BY 1, 2, 3
ORDER BY position IS NULL, position, stage, period
