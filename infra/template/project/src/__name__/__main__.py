"""`python -m {{name}}`."""

from {{name}}.cli import main

main()
