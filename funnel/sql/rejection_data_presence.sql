-- name: rejection_data_presence
-- Whether the whole database — any date, any lead — holds what rejections are computed from
-- (metrics.md §3), each as 1 or 0: lead events at all, hand-off events, events into a stage of
-- kind rejected; and how many lead stages are of kind rejected. The Rejections page's verdict
-- tells "configure a rejected stage" and "import the status history" apart from "none in this
-- cohort" by them. EXISTS stops at the first row found, so this is cheap on any size.
-- Parameters: $handoff (the hand-off stage).
SELECT CAST(EXISTS (SELECT 1 FROM lead_events) AS INTEGER) AS events,
       CAST(EXISTS (SELECT 1 FROM lead_events WHERE stage = $handoff) AS INTEGER) AS handoffs,
       CAST(EXISTS (SELECT 1 FROM lead_events WHERE stage IN (
           SELECT stage FROM stage_config WHERE funnel = 'lead' AND kind = 'rejected')) AS INTEGER) AS rejections,
       (SELECT count(*) FROM stage_config WHERE funnel = 'lead' AND kind = 'rejected') AS rejected_stages
