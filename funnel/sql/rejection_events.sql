-- rejection_events: the cohort's lead events known at D, each Rejected event paired with the
-- lead's first later hand-off (MQL) event — a resubmission (metrics.md §3).
-- "Later" follows event order (entered_at, then input order), so event_no decides.
-- Slots: {cohort}.
WITH {cohort},
ev AS (
    SELECT v.lead_id, v.stage, v.entered_at, v.actor, v.reason, v.event_no, s.kind
    FROM lead_visits v
    JOIN cohort c ON c.lead_id = v.lead_id
    JOIN stage_config s ON s.funnel = 'lead' AND s.stage = v.stage
    WHERE v.entered_at < $as_end
),
handoffs AS (SELECT lead_id, entered_at, event_no FROM ev WHERE stage = $handoff),
rejections AS (
    SELECT r.lead_id, r.entered_at AS rejected_at, r.event_no, r.actor, r.reason,
           min(h.entered_at) AS resubmitted_at
    FROM ev r
    LEFT JOIN handoffs h ON h.lead_id = r.lead_id AND h.event_no > r.event_no
    WHERE r.kind = 'rejected'
    GROUP BY r.lead_id, r.entered_at, r.event_no, r.actor, r.reason
)
SELECT r.*, (epoch(r.resubmitted_at) - epoch(r.rejected_at)) / 86400.0 AS resubmit_days
FROM rejections r
