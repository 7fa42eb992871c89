"""One JSON GET with a timeout, its failures turned into CheckFailed (RabbitMQ API, WebHDFS)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

from monitoring.checks import CheckFailed


def get_json(url: str, timeout_s: float, auth: tuple[str, str] | None = None) -> Any:
    """The decoded body of GET url; any error or non-2xx answer is CheckFailed naming the host."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    where = url.split("?", 1)[0]
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:  # noqa: S310 - configured URL
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise CheckFailed(f"{where}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise CheckFailed(f"{where}: {exc.reason}") from None
    except TimeoutError:
        raise CheckFailed(f"{where}: no answer in {timeout_s}s") from None
    except (OSError, ValueError) as exc:
        raise CheckFailed(f"{where}: {exc}") from None
