"""Config, logging, metrics and CLI plumbing shared by the showcase projects."""

__version__ = "0.1.0"
