-- name: forecast_call_list
-- Every recorded manager's call (commit and best case for a period and owner, beside what the
-- forecast said at its as-of date), newest first; funnel/targets.py adds what was won since.
SELECT call_id, period, owner, commit_amount, best_case_amount, note, called_by, called_at,
       as_of, weighted_amount, p50
FROM forecast_calls
ORDER BY called_at DESC, call_id DESC
