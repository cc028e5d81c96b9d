-- table_ddl: the CREATE TABLE statement of one table of an attached database's main schema
-- (no row: the table does not exist there). versions.restore reads it to carry a table (the
-- audit log) from the live database into a restored version that lacks it.
-- Parameters: $database (the attached database's name), $table_name.
SELECT sql
FROM duckdb_tables()
WHERE database_name = $database
  AND schema_name = 'main'
  AND table_name = $table_name
