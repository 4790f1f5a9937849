"""DuckDB marts derived from the lake: SQL files under `sql/`, run in name order by the builder."""
