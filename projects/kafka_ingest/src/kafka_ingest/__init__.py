"""confluent-kafka ingestion: validated keyed producer, at-least-once consumer, DLQ, exactly-once option."""

__version__ = "0.1.0"
