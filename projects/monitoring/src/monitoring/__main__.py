"""`python -m monitoring`."""

from monitoring.cli import main

main()
