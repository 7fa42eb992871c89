"""The showcase: every project's demo in one run, a summary table, an HTML page, the benchmark table."""
