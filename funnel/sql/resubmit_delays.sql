-- name: resubmit_delays
-- uses: rejection_events
-- Resubmissions per whole day of delay between the rejection and the lead's next hand-off
-- (metrics.md §3), per SDR: grp, delay_days (0, 1, …; 90 stands for 90 or more, so one
-- long-forgotten lead does not stretch the axis), resubmissions.
-- Parameters: those of rejection_events ($cohort_start, $cohort_end, $as_end, $handoff).
-- funnel/rejections.py replaces grp with another lead column's value, or one group 'All leads'.
SELECT coalesce(CAST(l.sdr AS VARCHAR), '(blank)') AS grp,
       CAST(least(floor(rj.resubmit_days), 90) AS INTEGER) AS delay_days,
       count(*) AS resubmissions
FROM rj JOIN leads l ON l.lead_id = rj.lead_id
WHERE rj.resubmitted_at IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
