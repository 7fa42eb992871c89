"""RabbitMQ queue depth, unacked, consumers, and dead-letter / parking-lot sizes (management API)."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from monitoring.checks import CheckFailed, Sample
from monitoring.checks.http import get_json
from monitoring.series import RABBIT_CONSUMERS, RABBIT_READY, RABBIT_UNACKED

COLUMNS = "name,vhost,messages_ready,messages_unacknowledged,consumers"


@dataclass
class RabbitQueues:
    """Every queue of a vhost whose name matches `queues`, with its role from its name."""

    name: str
    management_url: str
    vhost: str
    user: str
    password: str
    queues: str
    dead_letter: str
    parking_lot: str
    timeout_s: float
    kind: str = "rabbitmq"

    def role(self, queue: str) -> str:
        if re.fullmatch(self.parking_lot, queue):
            return "parking_lot"
        if re.fullmatch(self.dead_letter, queue):
            return "dead_letter"
        return "work"

    def run(self) -> list[Sample]:
        vhost = urllib.parse.quote(self.vhost, safe="")
        url = f"{self.management_url.rstrip('/')}/api/queues/{vhost}?columns={COLUMNS}"
        rows = get_json(url, self.timeout_s, (self.user, self.password))
        if not isinstance(rows, list):
            raise CheckFailed(f"{self.management_url}: unexpected answer for vhost {self.vhost}")
        samples: list[Sample] = []
        for row in sorted(rows, key=lambda r: str(r.get("name"))):
            queue = str(row.get("name"))
            if not re.fullmatch(self.queues, queue):
                continue
            labels = (self.name, self.vhost, queue, self.role(queue))
            # A queue the broker has not sampled yet has no counts: report 0, not a gap.
            samples.append(Sample(RABBIT_READY, labels, row.get("messages_ready") or 0))
            samples.append(Sample(RABBIT_UNACKED, labels, row.get("messages_unacknowledged") or 0))
            samples.append(Sample(RABBIT_CONSUMERS, labels, row.get("consumers") or 0))
        return samples

    def close(self) -> None:
        return None
