"""API -> S3 data lake with boto3: raw and curated layers, multipart uploads, Kinesis PutRecords batching and a Lambda-style handler"""

__version__ = "0.1.0"
