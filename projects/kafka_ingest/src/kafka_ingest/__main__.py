"""python -m kafka_ingest."""

from kafka_ingest.cli import main

main()
