"""Airflow 3 DAGs orchestrating the pipelines end to end: each task runs a project's CLI in its own virtualenv"""

__version__ = "0.1.0"
