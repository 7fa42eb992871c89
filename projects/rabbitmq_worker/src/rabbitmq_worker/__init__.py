"""A reliable pika task queue: publisher confirms, manual acks off the I/O thread, retry tiers and a parking lot"""

__version__ = "0.1.0"
