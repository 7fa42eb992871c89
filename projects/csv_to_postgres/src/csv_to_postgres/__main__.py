"""`python -m csv_to_postgres`."""

from csv_to_postgres.cli import main

main()
