"""A pipeline-health exporter (Kafka lag, RabbitMQ queues, table and lake freshness), alert rules and Grafana dashboards as code"""

__version__ = "0.1.0"
