"""`python -m cloud_pipeline`."""

from cloud_pipeline.cli import main

main()
