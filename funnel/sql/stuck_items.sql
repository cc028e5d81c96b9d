-- name: stuck_items
-- Items still in an open stage at the end of D for longer than $min_days (NULL: the stage's SLA),
-- the $limit longest first, each with the count of all matching items (metrics.md §2).
-- Parameters: $funnel, $as_end, $min_days, $limit, and those of visits — by default the lead
-- cohort's ($cohort_start, $cohort_end) with each visit's owner: the person of the team that owns
-- the stage, the AE for sales stages (SQL, Opportunity, Rejected), else the SDR.
-- funnel/time_in_stage.py replaces visits(item_id, stage, entered_at, next_at, owner) for the
-- scope and funnel, and narrows cur to chosen stages.
WITH visits AS (
    SELECT v.lead_id AS item_id, v.stage, v.entered_at, v.next_at,
           CASE WHEN sc.team = 'sales' THEN coalesce(v.ae, v.sdr) ELSE coalesce(v.sdr, v.ae) END AS owner
    FROM lead_visits v LEFT JOIN stage_config sc ON sc.funnel = 'lead' AND sc.stage = v.stage
    WHERE v.created_at >= $cohort_start AND v.created_at < $cohort_end
),
st AS (SELECT stage, sla_hours FROM stage_config WHERE funnel = $funnel AND kind = 'open'),
cur AS (
    SELECT v.item_id, v.stage, v.owner, v.entered_at,
           (epoch($as_end) - epoch(v.entered_at)) / 86400.0 AS days_in_stage, st.sla_hours / 24.0 AS sla_days
    FROM visits v JOIN st ON st.stage = v.stage
    WHERE v.entered_at < $as_end AND (v.next_at IS NULL OR v.next_at >= $as_end)
),
hit AS (SELECT * FROM cur WHERE days_in_stage > coalesce(CAST($min_days AS DOUBLE), sla_days))
SELECT *, count(*) OVER () AS total
FROM hit
ORDER BY days_in_stage DESC, item_id
LIMIT $limit
