-- name: flipped_leads
-- uses: scored_leads
-- The cohort leads on different sides of the threshold under the current scenario (score, $t1)
-- and the draft (draft_score, $t2) (metrics.md §5, the what-if): a lead 'becomes MQL' when the
-- draft puts it above its threshold and the current scenario does not, and 'stops being MQL'
-- the other way round; reached_outcome says whether it reached the outcome stage, so a flip can
-- be judged against what really happened.
-- funnel/scoring.py sets draft_score to the draft rules' expression (its values bound as
-- $d_pts1, $d_v1_0, …) in the same scan of the leads as score. By default both score 0.0 and
-- no lead flips.
-- Parameters: $t1, $t2, and those of scored_leads.
SELECT lead_id, created_at, channel, segment, sdr, score AS current_score, draft_score,
       CASE WHEN draft_score >= $t2 THEN 'becomes MQL' ELSE 'stops being MQL' END AS change,
       outcome = 1 AS reached_outcome
FROM scored_leads
WHERE (score >= $t1) <> (draft_score >= $t2)
