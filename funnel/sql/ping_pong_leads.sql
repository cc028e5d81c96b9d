-- name: ping_pong_leads
-- uses: rejection_events
-- The cohort's leads rejected $min_rejections times or more by D — the ping-pong between SDR and
-- sales that the rejection figures of metrics.md §3 summarise, lead by lead — with their owners,
-- hand-offs, where they are now, the time of their last event and their path (every stage the
-- lead entered by D, in event order). Most rejections first, then the most recently active;
-- the first $limit.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff),
-- $min_rejections, $limit.
WITH pp AS (
    SELECT lead_id, count(*) AS rejections
    FROM rj
    GROUP BY lead_id
    HAVING count(*) >= $min_rejections
),
walk AS (
    -- the whole path of those leads: every event by D, not only hand-offs and rejections
    SELECT v.lead_id, string_agg(v.stage, ' → ' ORDER BY v.event_no) AS path,
           count(*) FILTER (WHERE v.stage = $handoff) AS handoffs,
           max(v.entered_at) AS last_event_at, arg_max(v.stage, v.event_no) AS current_stage
    FROM lead_visits v JOIN pp ON pp.lead_id = v.lead_id
    WHERE v.entered_at < $as_end
    GROUP BY v.lead_id
)
SELECT p.lead_id, l.channel, l.segment, l.sdr, l.ae, p.rejections, w.handoffs, w.current_stage,
       w.last_event_at, w.path
FROM pp p JOIN walk w ON w.lead_id = p.lead_id JOIN leads l ON l.lead_id = p.lead_id
ORDER BY p.rejections DESC, w.last_event_at DESC, p.lead_id
LIMIT $limit
