-- name: scored_leads
-- Each cohort lead's score under a scoring scenario and whether it reached the outcome stage
-- (metrics.md §5): score = the sum of the points of the enabled rules the lead matches;
-- outcome = 1 when the lead reached the outcome stage ($outcome_position) or a later positioned
-- one by the end of D, within the conversion window when one is set (definition 1, as
-- stage_conversion counts it: lead_reach holds each lead's first time at a position or later).
-- draft_score is the score under a second scenario, the draft, which flipped_leads compares with
-- score; channel and segment are shown in that list. The queries that do not read them cost
-- nothing for them (the engines prune unread columns of a CTE read once).
-- Every figure of the Lead scoring page reads this relation.
-- The cohort filter applies straight to leads (no self-join back from a cohort CTE): one scan
-- of the leads table per scenario is what keeps a re-score of 1M leads interactive.
-- Parameters: $cohort_start, $cohort_end, $as_end, $window_days (NULL: no window),
-- $outcome_position. By default no rule (every score 0.0) and no dimension filter.
-- funnel/scoring.py builds per query shape: score and draft_score from the rules (one
-- CASE WHEN <rule matches> THEN CAST($pts1 AS DOUBLE) ELSE 0.0 END per enabled rule, summed and
-- rounded to 6 decimals, every value bound), the dimension filters, outcome 0 without the join
-- when no outcome is asked (or 1 for the first stage, which every cohort lead reaches), the
-- attribute columns f_0, f_1, … the leak check and the rule suggestion read, and the hash
-- sample of suggest_rules (hash(lead_id) % 10000 < $sample_buckets: the same leads on every run).
SELECT l.lead_id, l.created_at, l.channel, l.segment, l.sdr,
       0.0 AS score,
       0.0 AS draft_score,
       CASE WHEN rr.lead_id IS NOT NULL THEN 1 ELSE 0 END AS outcome
FROM leads l
LEFT JOIN lead_reach rr
       ON rr.lead_id = l.lead_id AND rr.position = $outcome_position
      AND rr.first_reached_at < $as_end
      AND ($window_days IS NULL
           OR rr.first_reached_at <= l.created_at + CAST($window_days AS INTEGER) * INTERVAL 1 DAY)
WHERE l.created_at >= $cohort_start AND l.created_at < $cohort_end
