"""A data-lake loader: verified atomic WebHDFS uploads, Hive external tables and partitions, PyHive queries"""

__version__ = "0.1.0"
