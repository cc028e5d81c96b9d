-- name: recycled_outcomes
-- uses: rejection_events
-- Where recycled leads get to (metrics.md §3, outcome of recycled leads): the share of leads
-- reaching each target stage, for the leads rejected at least once against the leads handed off
-- and never rejected. Reaching follows §1 — an event into the stage or a later funnel stage, by
-- D — but a recycled lead counts only when it gets there *after* its first rejection ("later"):
-- a lead rejected at SQL that never came back is not a recycling success.
-- Columns: grp, leads, stage, position, reached, share; recycled leads first, targets in funnel
-- order.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff), the
-- two group names $recycled_group and $first_pass_group, and the targets $st0, $pos0, $st1,
-- $pos1 (stage, funnel position).
-- funnel/rejections.py builds targets for any number of stages, and narrows ev to the hand-offs,
-- the rejections and the funnel stages (open or won) from the first target's position on.
WITH per_lead AS (
    SELECT lead_id,
           min(event_no) FILTER (WHERE kind = 'rejected') AS first_rejection_no,
           count(*) FILTER (WHERE stage = $handoff) AS n_handoffs
    FROM ev
    GROUP BY lead_id
),
grouped AS (
    -- the two groups: rejected at least once, or handed off and never rejected
    SELECT lead_id, first_rejection_no,
           CASE WHEN first_rejection_no IS NOT NULL THEN $recycled_group ELSE $first_pass_group END AS grp
    FROM per_lead
    WHERE first_rejection_no IS NOT NULL OR n_handoffs > 0
),
targets AS (
    SELECT $st0 AS stage, $pos0 AS position
    UNION ALL
    SELECT $st1 AS stage, $pos1 AS position
),
sizes AS (SELECT grp, count(*) AS leads FROM grouped GROUP BY grp),
hit AS (
    -- a never-rejected lead's every funnel event counts (event_no > 0); a recycled lead's only
    -- after its first rejection
    SELECT g.grp, t.stage, count(DISTINCT g.lead_id) AS reached
    FROM grouped g
    JOIN ev e ON e.lead_id = g.lead_id AND e.kind IN ('open', 'won')
         AND e.event_no > coalesce(g.first_rejection_no, 0)
    JOIN targets t ON e.position >= t.position
    GROUP BY 1, 2
)
SELECT s.grp, s.leads, t.stage, t.position, coalesce(h.reached, 0) AS reached,
       coalesce(h.reached, 0) / s.leads::DOUBLE AS share
FROM sizes s CROSS JOIN targets t
LEFT JOIN hit h ON h.grp = s.grp AND h.stage = t.stage
ORDER BY s.grp DESC, t.position
