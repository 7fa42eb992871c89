"""`python -m de_services`: the launcher CLI."""

from de_services.cli import main

main()
