"""Run the CLI with `python -m log_analyzer`."""

from log_analyzer.cli import main

if __name__ == "__main__":
    main()
