"""`python -m api_fetcher`."""

from api_fetcher.cli import main

main()
