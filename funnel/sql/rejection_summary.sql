-- name: rejection_summary
-- uses: rejection_events
-- The rejection figures of a cohort in one row (metrics.md §3): hand-offs (MQL events), rejected
-- (Rejected events), resubmissions (a rejection followed later by a hand-off of the same lead),
-- those within 7 days, the median resubmission delay in days, and the handed-off leads with a
-- loop (more than one hand-off) among all handed-off leads. funnel/rejections.py adds the two
-- shares (rejected / handoffs, within 7 days / resubmissions), which are plain ratios of these.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff).
WITH per_lead AS (SELECT lead_id, count(*) AS n_handoffs FROM handoffs GROUP BY lead_id),
h AS (
    -- coalesce: a cohort without hand-offs has 0 of them, not NULL
    SELECT coalesce(sum(n_handoffs), 0) AS handoffs,
           count(*) FILTER (WHERE n_handoffs > 1) AS leads_with_loops,
           count(*) AS leads_handed_off
    FROM per_lead
),
x AS (
    SELECT count(*) AS rejected, count(resubmitted_at) AS resubmissions,
           count(*) FILTER (WHERE resubmit_days <= 7) AS resubmitted_within_7d,
           median(resubmit_days) AS median_resubmit_days
    FROM rj
)
SELECT h.handoffs, x.rejected, x.resubmissions, x.resubmitted_within_7d, x.median_resubmit_days,
       h.leads_with_loops, h.leads_handed_off
FROM h CROSS JOIN x
