"""The DAG files: point Airflow's dags_folder here (AIRFLOW__CORE__DAGS_FOLDER)."""
