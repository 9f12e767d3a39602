"""Where SQL runs: DuckDB (embedded), PostgreSQL, Spark; opening one by name; the data
check; the in-memory tables of `segc test` and the tests."""
