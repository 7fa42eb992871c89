"""A seeded generator of realistic combined-format logs that also counts what it wrote."""

from __future__ import annotations

import bz2
import gzip
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

PATHS = [
    "/",
    "/index.html",
    "/login",
    "/logout",
    "/search",
    "/cart",
    "/checkout",
    "/api/v1/items",
    "/api/v1/orders",
    "/api/v1/users/me",
    "/static/app.js",
    "/static/app.css",
    "/favicon.ico",
    "/robots.txt",
    "/blog",
    "/about",
]
UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/8.5.0",
    "python-requests/2.31.0",
]
REFERERS = ["-", "-", "-", "https://www.google.com/", "https://example.com/", "https://t.co/x"]
METHODS = ["GET"] * 8 + ["POST", "HEAD"]
STATUSES = [200] * 70 + [304] * 8 + [301, 302] * 3 + [404] * 8 + [403, 400, 500, 502, 503]
MALFORMED = [
    b"this is not a log line\n",
    b"\x00\x01\x02\xff\xfe binary garbage\n",
    b'127.0.0.1 - - [not a date] "GET / HTTP/1.1" 200 12 "-" "x"\n',
    b'10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 2000 12 "-" "x"\n',
    b"\n",
    b'10.0.0.2 - - [01/Jan/2024:00:00:00 +0000] "GET /trunc',
]


@dataclass
class Truth:
    """What the generator wrote, counted as it wrote it."""

    lines: int = 0
    valid: int = 0
    malformed: int = 0
    bytes: int = 0
    status: Counter[int] = field(default_factory=Counter)
    minutes: Counter[int] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)
    bots: int = 0
    hostile: Counter[str] = field(default_factory=Counter)  # hostile lines written, by kind
    latin1: int = 0  # lines that are not valid UTF-8
    visitors: dict[int, set[tuple[int, int]]] = field(default_factory=dict)


@dataclass
class GenOptions:
    """What to generate."""

    lines: int = 100_000
    seed: int = 42
    start: int = 1_704_067_200  # 2024-01-01T00:00:00Z
    rate_per_s: float = 20.0  # requests per second on average
    duration: bool = False  # append $request_time (seconds, ms precision)
    malformed_every: int = 0  # one malformed line every N lines (0 = none)
    # one hostile line every N lines (0 = none), drawn from its own seeded stream so the valid
    # lines are the same with or without them: see `hostile_line`
    hostile_every: int = 0
    n_ips: int = 20_000
    n_products: int = 400  # distinct /product/N paths besides the fixed ones
    count_visitors: bool = True


def _open(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return gzip.open(path, "wb", compresslevel=1)  # type: ignore[return-value]
    if path.suffix == ".bz2":
        return bz2.open(path, "wb")  # type: ignore[return-value]
    return open(path, "wb")


def generate(paths: list[Path], opts: GenOptions) -> Truth:
    """Write opts.lines lines spread evenly over `paths` (oldest first), in time order."""
    rnd = random.Random(opts.seed)  # noqa: S311 - sample data, not secrets
    unique: dict[str, None] = {}
    while len(unique) < opts.n_ips:  # distinct, so visitor truth by index equals truth by text
        a, b, c, d = (
            rnd.randint(1, 223),
            rnd.randint(0, 255),
            rnd.randint(0, 255),
            rnd.randint(1, 254),
        )
        unique[f"{a}.{b}.{c}.{d}"] = None
    ips = list(unique)
    paths_all = PATHS + [f"/product/{i}" for i in range(opts.n_products)]
    hostile_rnd = random.Random(f"hostile-{opts.seed}")  # noqa: S311
    truth = Truth()
    per_file = -(-opts.lines // max(1, len(paths)))
    ts = float(opts.start)
    written = 0
    last_sec = -1
    stamp = ""
    ua_bot = [("bot" in u.lower()) or u.startswith(("curl", "python")) for u in UAS]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _open(path) as fh:
            buf: list[bytes] = []
            end = min(opts.lines, written + per_file)
            while written < end:
                written += 1
                truth.lines += 1
                if opts.malformed_every and written % opts.malformed_every == 0:
                    bad = MALFORMED[(written // opts.malformed_every) % len(MALFORMED)]
                    if not bad.endswith(b"\n"):
                        bad += b"\n"
                    buf.append(bad)
                    truth.malformed += 1
                    truth.latin1 += not _is_utf8(bad)
                    continue
                if opts.hostile_every and written % opts.hostile_every == 0:
                    kind, bad = hostile_line(hostile_rnd, ips[hostile_rnd.randrange(opts.n_ips)])
                    buf.append(bad + b"\n")
                    truth.malformed += 1
                    truth.hostile[kind] += 1
                    truth.latin1 += not _is_utf8(bad)
                    continue
                # a daily cycle, busiest mid-afternoon UTC, so charts look like a real site
                phase = math.sin(2 * math.pi * ((ts % 86400) / 86400 - 0.35))
                ts += rnd.expovariate(opts.rate_per_s * (1.0 + 0.6 * phase))
                sec = int(ts)
                if sec != last_sec:
                    last_sec = sec
                    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(sec))
                ip_i = (
                    int(rnd.paretovariate(1.2)) % opts.n_ips
                    if rnd.random() < 0.5
                    else rnd.randrange(opts.n_ips)
                )
                ua_i = rnd.randrange(5) if rnd.random() < 0.85 else rnd.randrange(5, len(UAS))
                path_s = paths_all[int(rnd.paretovariate(1.1)) % len(paths_all)]
                status = rnd.choice(STATUSES)
                size = 0 if status in (304, 301, 302) else rnd.randint(200, 60_000)
                method = rnd.choice(METHODS)
                query = f"?q={rnd.randrange(1000)}" if path_s == "/search" else ""
                line = (
                    f'{ips[ip_i]} - - [{stamp}] "{method} {path_s}{query} HTTP/1.1" {status} '
                    f'{size} "{rnd.choice(REFERERS)}" "{UAS[ua_i]}"'
                )
                if opts.duration:
                    line += f" {rnd.lognormvariate(-3.0, 1.0):.3f}"
                buf.append(line.encode() + b"\n")
                truth.valid += 1
                truth.bytes += size
                truth.status[status] += 1
                truth.minutes[sec // 60] += 1
                truth.paths[path_s] += 1
                truth.bots += ua_bot[ua_i]
                if opts.count_visitors:
                    truth.visitors.setdefault(sec // 86400, set()).add((ip_i, ua_i))
                if len(buf) >= 50_000:
                    fh.write(b"".join(buf))
                    buf.clear()
            fh.write(b"".join(buf))
    return truth


HOSTILE_KINDS = ("truncated", "binary", "nul", "empty", "invalid_utf8")


def hostile_line(rnd: random.Random, ip: str) -> tuple[str, bytes]:
    """One line (without its newline) of what production logs carry besides requests: a line cut
    after an opening quote (unbalanced), random bytes, a run of NUL bytes (a file zero-filled by a
    crash), an empty line, or a fragment with invalid UTF-8. Each is a reject by construction: none
    holds both a ']' and balanced quotes, so no log format can match it."""
    kind = rnd.choice(HOSTILE_KINDS)
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(rnd.randrange(1 << 31)))
    head = f"{ip} - - [{stamp}".encode()  # a line start, cut before its ']'
    if kind == "truncated":
        full = f'{ip} - - [{stamp}] "GET /{rnd.randrange(1000)} HTTP/1.1" 200 5 "-" "{UAS[0]}"'
        cuts = [i for i in range(full.index('"') + 1, len(full)) if full[:i].count('"') % 2]
        return kind, full[: rnd.choice(cuts)].encode()
    if kind == "binary":
        raw = rnd.randbytes(rnd.randint(1, 300)).replace(b"\n", b"").replace(b"]", b"")
        return kind, raw or b"\x16"
    if kind == "nul":
        return kind, b"\x00" * rnd.randint(1, 512) + head[: rnd.randrange(len(head))]
    if kind == "empty":
        return kind, b"" if rnd.random() < 0.8 else b" "
    return kind, head[: rnd.randrange(len(head))] + rnd.choice(_INVALID_UTF8) + b" /caf\xe9 x"


_INVALID_UTF8 = [
    b"\xff",
    b"\xc3\x28",
    b"\xa0\xa1",
    b"\xe2\x28\xa1",
    b"\xf0\x28\x8c\xbc",
    b"\xfe\xfe",
]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def rotated_set(folder: Path, name: str = "access.log") -> list[Path]:
    """access.log.2.gz, access.log.1, access.log: a rotated set, oldest first."""
    return [folder / f"{name}.2.gz", folder / f"{name}.1", folder / name]
