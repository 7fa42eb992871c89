"""`python -m hdfs_hive`."""

from hdfs_hive.cli import main

main()
