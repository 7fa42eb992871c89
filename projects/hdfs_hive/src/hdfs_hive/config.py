"""Settings: defaults < TOML (--config) < .env < HDFS_HIVE_* environment < CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from de_common.config import Settings, settings_config


class HdfsHiveSettings(Settings):
    """Every knob of a run; each is also HDFS_HIVE_<FIELD> in the environment."""

    model_config = settings_config(env_prefix="HDFS_HIVE_")

    hdfs_url: str = Field(
        default="http://127.0.0.1:29870", description="WebHDFS address of the namenode."
    )
    hdfs_user: str = Field(default="root", description="User name sent to WebHDFS (simple auth).")
    hive_url: str = Field(
        default="hive://127.0.0.1:20000/default",
        description="HiveServer2 address as hive://HOST:PORT/DATABASE (auth NONE).",
    )
    lake_root: str = Field(
        default="/lake", description="HDFS folder holding one folder per dataset."
    )
    database: str = Field(default="lake", description="Hive database the tables are created in.")
    workers: int = Field(default=4, ge=1, le=64, description="Files uploaded in parallel.")
    overwrite: bool = Field(
        default=False,
        description="Replace a file already in HDFS whose checksum differs (default: reject it).",
    )
    timeout_s: float = Field(default=60.0, gt=0, description="Seconds per WebHDFS request.")
    register_method: Literal["add", "msck"] = Field(
        default="add",
        description="How partitions are registered: ALTER TABLE ADD PARTITION or MSCK REPAIR TABLE.",
    )
    retention_days: int = Field(
        default=30,
        ge=0,
        description="Partitions whose dt is older than this many days are dropped.",
    )
    compact_target_mb: int = Field(
        default=128, ge=1, description="Size a compacted Parquet file is rolled at."
    )
    compact_min_files: int = Field(
        default=2, ge=2, description="A partition with fewer files than this is left as it is."
    )
    quarantine: Path = Field(
        default=Path("rejects.jsonl"), description="Where rejected files go, with the reason."
    )
