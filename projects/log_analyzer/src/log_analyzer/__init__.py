"""Fast, bounded-memory web-server and CSV log analytics."""

__version__ = "0.1.0"
