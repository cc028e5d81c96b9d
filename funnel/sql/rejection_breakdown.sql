-- name: rejection_breakdown
-- uses: rejection_events
-- Rejections per AE and per SDR of the lead, and the cohort's totals, from one pairing of the
-- rejections with their resubmissions (metrics.md §3, breakdowns by a lead column). GROUPING SETS
-- compute every breakdown in one pass: dim says which one a row belongs to (0 for g0, 1 for g1,
-- -1 for the totals row of the empty set), grp is the group's value.
-- Per group: hand-offs and rejections of its leads, rejection_rate, resubmissions (within $quick
-- = 2 days — a "bounce-back", the lead sent straight back — and within 7 days, median delay),
-- and how many resubmissions "converted": the lead later (after the resubmission, by D) reached
-- $outcome_stage or a later funnel stage; all of them, and those that came back within $quick
-- days. small_sample: fewer than $small_sample hand-offs, so nobody is judged on three leads.
-- stands_out: no small sample, a rate at least $ratio × the team's, and a two-proportion z of at
-- least $z_min against all other hand-offs of the breakdown — so not likely chance.
-- leads_with_loops / leads_handed_off feed the totals row's rejection_summary.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff), and
-- $outcome_stage with its funnel $outcome_pos, $quick, $small_sample, $ratio, $z_min.
-- funnel/rejections.py sets the group columns g0, g1, … of hl and xl (any lead columns), the
-- grouping sets (with or without the totals) and dim and grp to match; for columns copied into
-- lead_visits it carries them through the events and drops the joins to leads.
WITH back AS (SELECT DISTINCT lead_id FROM rj WHERE resubmitted_at IS NOT NULL),
reach AS (
    -- where each resubmitted lead got to: its last event into the outcome stage or a later one
    -- (by D); a resubmission converted when that event comes after it
    SELECT v.lead_id, max(v.event_no) AS last_outcome_no
    FROM lead_visits v JOIN back b ON b.lead_id = v.lead_id
    JOIN stage_config s ON s.funnel = 'lead' AND s.stage = v.stage
    WHERE v.entered_at < $as_end AND s.kind IN ('open', 'won') AND s.position >= $outcome_pos
    GROUP BY v.lead_id
),
hl AS (
    -- per handed-off lead: its hand-offs (n) and its groups
    SELECT p.n,
           coalesce(CAST(l.ae AS VARCHAR), '(blank)') AS g0,
           coalesce(CAST(l.sdr AS VARCHAR), '(blank)') AS g1
    FROM (SELECT lead_id, count(*) AS n FROM handoffs GROUP BY lead_id) p
    JOIN leads l ON l.lead_id = p.lead_id
),
xl AS (
    -- per rejection: its resubmission, where the lead got to, and the lead's groups
    SELECT r.resubmitted_at, r.resubmit_days, r.resubmit_event_no, rc.last_outcome_no,
           coalesce(CAST(l.ae AS VARCHAR), '(blank)') AS g0,
           coalesce(CAST(l.sdr AS VARCHAR), '(blank)') AS g1
    FROM rj r JOIN leads l ON l.lead_id = r.lead_id
    LEFT JOIN reach rc ON rc.lead_id = r.lead_id
),
h AS (
    SELECT CASE WHEN grouping(g0) = 0 THEN 0 WHEN grouping(g1) = 0 THEN 1 ELSE -1 END AS dim,
           coalesce(g0, g1, '') AS grp,
           sum(n) AS handoffs, count(*) FILTER (WHERE n > 1) AS leads_with_loops, count(*) AS leads_handed_off
    FROM hl
    GROUP BY GROUPING SETS ((g0), (g1), ())
),
x AS (
    SELECT CASE WHEN grouping(g0) = 0 THEN 0 WHEN grouping(g1) = 0 THEN 1 ELSE -1 END AS dim,
           coalesce(g0, g1, '') AS grp,
           count(*) AS rejected, count(resubmitted_at) AS resubmissions,
           count(*) FILTER (WHERE resubmit_days <= $quick) AS resubmitted_within_2d,
           count(*) FILTER (WHERE resubmit_days <= 7) AS resubmitted_within_7d,
           median(resubmit_days) AS median_resubmit_days,
           count(*) FILTER (WHERE last_outcome_no > resubmit_event_no) AS resubmissions_converted,
           count(*) FILTER (WHERE resubmit_days <= $quick
                              AND last_outcome_no > resubmit_event_no) AS quick_resubmissions_converted
    FROM xl
    GROUP BY GROUPING SETS ((g0), (g1), ())
),
b AS (
    -- every group with hand-offs or rejections (a group may have only one of the two)
    SELECT coalesce(h.dim, x.dim) AS dim, coalesce(h.grp, x.grp) AS grp, coalesce(h.handoffs, 0) AS handoffs,
           coalesce(x.rejected, 0) AS rejected,
           coalesce(x.rejected, 0) / NULLIF(h.handoffs, 0)::DOUBLE AS rejection_rate,
           coalesce(x.resubmissions, 0) AS resubmissions,
           coalesce(x.resubmitted_within_2d, 0) AS resubmitted_within_2d,
           coalesce(x.resubmitted_within_7d, 0) AS resubmitted_within_7d,
           x.median_resubmit_days,
           coalesce(x.resubmissions_converted, 0) AS resubmissions_converted,
           coalesce(x.quick_resubmissions_converted, 0) AS quick_resubmissions_converted,
           $outcome_stage AS outcome_stage,
           coalesce(h.handoffs, 0) < $small_sample AS small_sample,
           coalesce(h.leads_with_loops, 0) AS leads_with_loops, coalesce(h.leads_handed_off, 0) AS leads_handed_off
    FROM h FULL OUTER JOIN x ON x.dim = h.dim AND x.grp = h.grp
),
t AS (
    -- the breakdown's totals on every row: "everyone else" of a group is the total minus the group
    SELECT b.*, sum(rejected) OVER (PARTITION BY dim) AS tot_r, sum(handoffs) OVER (PARTITION BY dim) AS tot_h
    FROM b
),
z AS (
    -- two-proportion z statistic of the group against everyone else (pooled variance); NULL when
    -- undefined (no hand-off on one side, or a pooled rate of 0 or 1)
    SELECT t.*, CASE WHEN handoffs > 0 AND tot_h - handoffs > 0 AND tot_r > 0 AND tot_r < tot_h THEN
               (rejected / handoffs::DOUBLE - (tot_r - rejected) / (tot_h - handoffs)::DOUBLE)
               / sqrt((tot_r / tot_h::DOUBLE) * (1 - tot_r / tot_h::DOUBLE)
                      * (1.0 / handoffs + 1.0 / (tot_h - handoffs))) END AS z
    FROM t
)
SELECT dim, grp, handoffs, rejected, rejection_rate, resubmissions, resubmitted_within_2d, resubmitted_within_7d,
       median_resubmit_days, resubmissions_converted, quick_resubmissions_converted, outcome_stage,
       small_sample,
       coalesce(NOT small_sample AND rejection_rate >= $ratio * tot_r / tot_h::DOUBLE AND z >= $z_min, FALSE)
           AS stands_out,
       leads_with_loops, leads_handed_off
FROM z
ORDER BY dim, rejection_rate DESC NULLS LAST, grp
