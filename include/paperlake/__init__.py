"""paperlake: scientific-paper abstracts from source to DuckDB marts (Airflow-free library)."""

__version__ = "0.1.0"
