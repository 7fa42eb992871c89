"""`python -m spark_etl`."""

from spark_etl.cli import main

main()
