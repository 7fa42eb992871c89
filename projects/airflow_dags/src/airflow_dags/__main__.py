"""`python -m airflow_dags`."""

from airflow_dags.cli import main

main()
