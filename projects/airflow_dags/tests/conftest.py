"""Airflow reads AIRFLOW_HOME when first imported: point it at a private folder before any test
imports it, with the DAG folder and no examples."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "src" / "airflow_dags" / "dags"

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow_dags-home-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
