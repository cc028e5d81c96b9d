-- name: rejection_rates
-- uses: rejection_events
-- Hand-offs and rejections per AE (metrics.md §3, breakdown by a lead column) — the counts of
-- rejection_breakdown without pairing rejections with resubmissions, for a quick look such as the
-- Overview's highlight. funnel/rejections.py adds the rate, the small-sample flag and whether a
-- group stands out (the same rules as rejection_breakdown).
-- A group with rejections but no hand-off (a lead may be rejected with no hand-off among its
-- events) still shows, with 0 hand-offs: hence the full outer join.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff).
-- funnel/rejections.py replaces grp of h and x with another lead column (or 'All leads'); for a
-- column copied into lead_visits it carries the column through the events and drops the joins
-- to leads.
WITH h AS (
    SELECT coalesce(CAST(l.ae AS VARCHAR), '(blank)') AS grp, count(*) AS handoffs
    FROM handoffs e JOIN leads l ON l.lead_id = e.lead_id
    GROUP BY 1
),
x AS (
    SELECT coalesce(CAST(l.ae AS VARCHAR), '(blank)') AS grp, count(*) AS rejected
    FROM rej e JOIN leads l ON l.lead_id = e.lead_id
    GROUP BY 1
)
SELECT coalesce(h.grp, x.grp) AS grp, coalesce(h.handoffs, 0) AS handoffs, coalesce(x.rejected, 0) AS rejected
FROM h FULL OUTER JOIN x ON x.grp = h.grp
