-- schema_columns: every (table, column) of the main schema of the database in use.
-- store.schema_is_current compares a database's list with the one init_schema makes in memory:
-- a reader (the app opens read-only) cannot add what a newer release's schema has, so a missing
-- table or column means "write once to upgrade".
SELECT table_name, column_name
FROM duckdb_columns()
WHERE database_name = current_database()
  AND schema_name = 'main'
