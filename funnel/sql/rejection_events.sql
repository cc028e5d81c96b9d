-- name: rejection_events
-- The cohort's lead events known at D, each Rejected event paired with the lead's first later
-- hand-off (MQL) event — a resubmission (metrics.md §3).
-- "Later" follows event order (entered_at, then input order), so event_no decides; a hand-off
-- after D is not known yet, so such a rejection has no resubmission (yet).
-- Parameters: $cohort_start, $cohort_end, $as_end, $handoff (the hand-off stage).
-- The rejection queries (rejection_summary, rejection_breakdown, …: "-- uses: rejection_events")
-- read these CTEs. funnel/rejections.py composes them for a scope (funnel.sqlcompose): it
-- replaces cohort, drops ev's join to the cohort when the cohort is every lead in the database
-- (the common unfiltered view, where that join is most of the cost), narrows ev's stages to bound
-- names ($stage0, …: the hand-off stage, the rejected ones, for recycled_outcomes the funnel
-- stages from a position on — a filter the scan applies before any join), and carries lead
-- columns copied into lead_visits through ev, handoffs, rej and rj, so a breakdown by them needs
-- no join to leads. By default ev holds every stage any of them reads: the hand-off stage, the
-- rejected ones and the funnel stages (open or won) recycled_outcomes follows leads into.
WITH cohort AS (
    SELECT l.lead_id, l.created_at
    FROM leads l
    WHERE l.created_at >= $cohort_start AND l.created_at < $cohort_end
),
ev AS (
    SELECT v.lead_id, v.stage, v.entered_at, v.actor,
           nullif(trim(v.reason), '') AS reason,   -- a blank reason is a missing one
           v.event_no, s.kind, s.position
    FROM lead_visits v
    JOIN cohort c ON c.lead_id = v.lead_id
    JOIN stage_config s ON s.funnel = 'lead' AND s.stage = v.stage
    WHERE v.entered_at < $as_end
      AND v.stage IN (SELECT stage FROM stage_config
                      WHERE funnel = 'lead' AND (stage = $handoff OR kind IN ('rejected', 'open', 'won')))
),
handoffs AS (SELECT lead_id, entered_at, event_no FROM ev WHERE stage = $handoff),
-- Each rejection's first later hand-off: join the lead's hand-offs after it and keep the first.
-- Grouping on the two key columns only, then joining back, is the cheap shape (measured against
-- a window over every event of the lead, which has to sort them all).
rej AS (SELECT lead_id, event_no, entered_at, actor, reason FROM ev WHERE kind = 'rejected'),
nxt AS (
    SELECT r.lead_id, r.event_no, min(h.event_no) AS resubmit_event_no, min(h.entered_at) AS resubmitted_at
    FROM rej r JOIN handoffs h ON h.lead_id = r.lead_id AND h.event_no > r.event_no
    GROUP BY r.lead_id, r.event_no
),
rj AS (
    SELECT r.lead_id, r.entered_at AS rejected_at, r.event_no, r.actor, r.reason,
           n.resubmitted_at, n.resubmit_event_no,
           (epoch(n.resubmitted_at) - epoch(r.entered_at)) / 86400.0 AS resubmit_days
    FROM rej r LEFT JOIN nxt n ON n.lead_id = r.lead_id AND n.event_no = r.event_no
)
SELECT lead_id, rejected_at, actor, reason, resubmitted_at, resubmit_days FROM rj
ORDER BY lead_id, event_no
