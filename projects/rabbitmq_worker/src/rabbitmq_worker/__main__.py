"""`python -m rabbitmq_worker`."""

from rabbitmq_worker.cli import main

main()
