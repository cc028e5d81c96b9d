-- audit_entries: the audit trail, newest first, with optional filters.
-- Parameters: $actions (VARCHAR[] or NULL: every action), $actor (VARCHAR or NULL: anyone;
-- matches the name or the e-mail exactly), $since / $until (TIMESTAMP or NULL; $until is the
-- start of the last day wanted, inclusive), $limit (BIGINT). summary_msgid / summary_params: the
-- summary's message (funnel.stored_messages; NULL in rows written before messages were kept).
SELECT audit_id, changed_at, actor_name, actor_email, actor_role, action, summary,
       details_json AS details, before_json AS before, after_json AS after,
       data_version_before, data_version_after, summary_msgid, summary_params
FROM audit_log
WHERE ($actions::VARCHAR[] IS NULL OR list_contains($actions::VARCHAR[], action))
  AND ($actor::VARCHAR IS NULL OR actor_name = $actor::VARCHAR OR actor_email = $actor::VARCHAR)
  AND ($since::TIMESTAMP IS NULL OR changed_at >= $since::TIMESTAMP)
  AND ($until::TIMESTAMP IS NULL OR changed_at < $until::TIMESTAMP + INTERVAL 1 DAY)
ORDER BY audit_id DESC
LIMIT $limit
