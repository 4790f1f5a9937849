"""Read Parquet with Spark as a consumer would, in Spark's own venv (no paperlake there), one SparkSession for all.

    python spark_reader.py '{"name": {"paths": [...], "base_path": "...", "columns": ["source", ...]}, ...}'

Prints {"name": {"count": rows, "rows": [[the columns' values as strings], ...]}} as JSON.
"""

import json
import sys

from pyspark.sql import SparkSession


def main() -> None:
    reads = json.loads(sys.argv[1])
    spark = (
        SparkSession.builder.master("local[1]").appName("paperlake-tests")
        .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    results = {}
    try:
        for name, read in reads.items():
            reader = spark.read.option("basePath", read["base_path"]) if read.get("base_path") else spark.read
            frame = reader.parquet(*read["paths"])
            rows = frame.select(*read["columns"]).collect() if read.get("columns") else []
            results[name] = {"count": frame.count(), "rows": sorted([str(value) for value in row] for row in rows)}
    finally:
        spark.stop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
