-- rejection_events: the cohort's lead events known at D, each Rejected event paired with the
-- lead's first later hand-off (MQL) event — a resubmission (metrics.md §3).
-- "Later" follows event order (entered_at, then input order), so event_no decides; a hand-off
-- after D is not known yet, so such a rejection has no resubmission (yet).
-- Slots: {cohort} — a CTE "cohort(lead_id, created_at)": the cohort's leads;
--        {cohort_join} — the join of the events to the cohort, or nothing when the cohort is every
--        lead in the database (the common unfiltered view, where that join is most of the cost);
--        {carry} — lead columns copied into lead_visits that a breakdown groups by, carried
--        through ev, handoffs, rej and rj (", v.ae" in ev, ", ae" after it; empty when none), so a
--        breakdown by them needs no join to leads;
--        {stages} — the bound names of the stages a query needs (the hand-off stage, the stages of
--        kind rejected, and for some queries the funnel stages from a position on): a filter the
--        scan applies before any join.
-- Everything above the final marker line (dash dash select) is the list of CTEs that the metric
-- functions in funnel/rejections.py extend with their own aggregation.
WITH {cohort},
ev AS (
    SELECT v.lead_id, v.stage, v.entered_at, v.actor,
           nullif(trim(v.reason), '') AS reason,   -- a blank reason is a missing one
           v.event_no, s.kind, s.position{carry_v}
    FROM lead_visits v
    {cohort_join}
    JOIN stage_config s ON s.funnel = 'lead' AND s.stage = v.stage
    WHERE v.entered_at < $as_end AND v.stage IN ({stages})
),
handoffs AS (SELECT lead_id, entered_at, event_no{carry} FROM ev WHERE stage = $handoff),
-- Each rejection's first later hand-off: join the lead's hand-offs after it and keep the first.
-- Grouping on the two key columns only, then joining back, is the cheap shape (measured against
-- a window over every event of the lead, which has to sort them all).
rej AS (SELECT lead_id, event_no, entered_at, actor, reason{carry} FROM ev WHERE kind = 'rejected'),
nxt AS (
    SELECT r.lead_id, r.event_no, min(h.event_no) AS resubmit_event_no, min(h.entered_at) AS resubmitted_at
    FROM rej r JOIN handoffs h ON h.lead_id = r.lead_id AND h.event_no > r.event_no
    GROUP BY r.lead_id, r.event_no
),
rj AS (
    SELECT r.lead_id, r.entered_at AS rejected_at, r.event_no, r.actor, r.reason{carry_r},
           n.resubmitted_at, n.resubmit_event_no,
           (epoch(n.resubmitted_at) - epoch(r.entered_at)) / 86400.0 AS resubmit_days
    FROM rej r LEFT JOIN nxt n ON n.lead_id = r.lead_id AND n.event_no = r.event_no
)
-- select
SELECT lead_id, rejected_at, actor, reason, resubmitted_at, resubmit_days FROM rj
ORDER BY lead_id, event_no
