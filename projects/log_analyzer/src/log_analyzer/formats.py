"""Log formats: the built-in web-server formats, CSV, JSON lines and custom format strings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from de_common.errors import UserError

# Group names every parser produces; anything else in a format string is matched but dropped.
CANONICAL = (
    "ip",
    "ident",
    "user",
    "time",
    "request",
    "method",
    "path",
    "protocol",
    "status",
    "bytes",
    "referer",
    "ua",
    "vhost",
    "duration",
)

_QUOTED = r'(?:[^"\\]|\\.)*'
IP = r"(?P<ip>\S+)"
IDENT = r"(?P<ident>\S+)"
USER = r"(?P<user>\S+)"
TIME = r"\[(?P<time>[^\]]+)\]"
REQUEST = rf'"(?P<request>{_QUOTED})"'
STATUS = r"(?P<status>\d{3})"
BYTES = r"(?P<bytes>\d+|-)"
REFERER = rf'"(?P<referer>{_QUOTED})"'
UA = rf'"(?P<ua>{_QUOTED})"'
DURATION = r"(?P<duration>\d+(?:\.\d+)?|-)"

_COMMON = f"{IP} {IDENT} {USER} {TIME} {REQUEST} {STATUS} {BYTES}"
_COMBINED = f"{_COMMON} {REFERER} {UA}"
_VHOST = rf"(?P<vhost>\S+) {_COMBINED}"


@dataclass(frozen=True)
class LogFormat:
    """How to turn one line into named fields."""

    name: str
    kind: str  # "regex" | "csv" | "jsonl"
    pattern: str = ""  # named groups from CANONICAL; RE2 and Python `re` compatible
    duration_unit: str = "auto"  # s | ms | us | auto (a decimal point means seconds, else us)

    @property
    def line_regex(self) -> str:
        """The whole-line regex; lines reach the parser with their newline still attached."""
        return f"^{self.pattern}\\r?\\n?$"


BUILTIN: dict[str, LogFormat] = {
    f.name: f
    for f in (
        LogFormat("vhost_combined_rt", "regex", f"{_VHOST} {DURATION}"),
        LogFormat("vhost_combined", "regex", _VHOST),
        LogFormat("combined_rt", "regex", f"{_COMBINED} {DURATION}"),
        LogFormat("combined", "regex", _COMBINED),
        LogFormat("common_rt", "regex", f"{_COMMON} {DURATION}"),
        LogFormat("common", "regex", _COMMON),
        LogFormat("csv", "csv"),
        LogFormat("jsonl", "jsonl"),
    )
}
FORMAT_NAMES = ("auto", *BUILTIN)

# --- custom format strings --------------------------------------------------------------------

_NGINX_VARS: dict[str, tuple[str, str, str]] = {
    # variable: (group, unquoted pattern, unit)
    "remote_addr": ("ip", r"\S+", ""),
    "realip_remote_addr": ("ip", r"\S+", ""),
    "binary_remote_addr": ("ip", r"\S+", ""),
    "remote_user": ("user", r"\S+", ""),
    "time_local": ("time", r"[^\]]+", ""),
    "time_iso8601": ("time", r"\S+", ""),
    "msec": ("time", r"\d+(?:\.\d+)?", ""),
    "request": ("request", r".+?", ""),
    "request_method": ("method", r"[A-Za-z]+", ""),
    "request_uri": ("path", r"\S+", ""),
    "uri": ("path", r"\S+", ""),
    "server_protocol": ("protocol", r"\S+", ""),
    "status": ("status", r"\d{3}", ""),
    "body_bytes_sent": ("bytes", r"\d+|-", ""),
    "bytes_sent": ("bytes", r"\d+|-", ""),
    "http_referer": ("referer", r"\S+", ""),
    "http_user_agent": ("ua", r".+?", ""),
    "request_time": ("duration", r"\d+(?:\.\d+)?|-", "s"),
    "host": ("vhost", r"\S+", ""),
    "http_host": ("vhost", r"\S+", ""),
    "server_name": ("vhost", r"\S+", ""),
}

_APACHE_DIRECTIVES: dict[str, tuple[str, str, str]] = {
    "h": ("ip", r"\S+", ""),
    "a": ("ip", r"\S+", ""),
    "l": ("ident", r"\S+", ""),
    "u": ("user", r"\S+", ""),
    "r": ("request", r".+?", ""),
    "s": ("status", r"\d{3}", ""),
    "b": ("bytes", r"\d+|-", ""),
    "B": ("bytes", r"\d+", ""),
    "O": ("bytes", r"\d+|-", ""),
    "I": ("", r"\d+|-", ""),
    "D": ("duration", r"\d+", "us"),
    "T": ("duration", r"\d+(?:\.\d+)?", "s"),
    "v": ("vhost", r"\S+", ""),
    "V": ("vhost", r"\S+", ""),
    "p": ("", r"\d+", ""),
    "P": ("", r"\d+", ""),
    "m": ("method", r"[A-Za-z]+", ""),
    "U": ("path", r"\S+", ""),
    "q": ("", r"\S*", ""),
    "H": ("protocol", r"\S+", ""),
    "k": ("", r"\d+", ""),
    "X": ("", r"\S", ""),
    "L": ("", r"\S+", ""),
}
_APACHE_HEADERS = {"referer": "referer", "user-agent": "ua", "host": "vhost"}

_NGINX_TOKEN = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_APACHE_TOKEN = re.compile(r"%(?:[<>]|!?\d{3}(?:,\d{3})*)?(?:\{([^}]*)\})?([a-zA-Z%])")


def _group(name: str, pattern: str, quoted: bool, used: set[str]) -> str:
    body = _QUOTED if quoted and pattern in (r"\S+", r".+?", r"\S*") else pattern
    if not name or name in used:
        return f"(?:{body})"
    used.add(name)
    return f"(?P<{name}>{body})"


def _escape(text: str) -> str:
    # re.escape also escapes spaces and '-', which RE2 need not see escaped
    return "".join("\\" + c if c in _META else c for c in text)


_META = set(".^$*+?()[]{}|\\")


def _in_quotes(text: str, start: int, end: int) -> bool:
    return start > 0 and text[start - 1] == '"' and end < len(text) and text[end] == '"'


Token = tuple[int, int, str, str, str]  # start, end, group, pattern, duration unit


def _assemble(fmt: str, tokens: list[Token], name: str) -> LogFormat:
    used: set[str] = set()
    parts: list[str] = []
    unit = "auto"
    pos = 0
    for start, end, group, pattern, group_unit in tokens:
        parts.append(_escape(fmt[pos:start]))
        if group == "time" and pattern == TIME:
            # Apache %t carries its own brackets and names its group already
            parts.append(r"\[[^\]]+\]" if "time" in used else TIME)
            used.add("time")
        else:
            parts.append(_group(group, pattern, _in_quotes(fmt, start, end), used))
        if group == "duration" and group_unit:
            unit = group_unit
        pos = end
    parts.append(_escape(fmt[pos:]))
    if not used & {"status", "request", "path", "time"}:
        raise UserError(
            f"format string {fmt!r} names none of the fields a report needs "
            "(time, request/path, status)"
        )
    pattern = "".join(parts)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UserError(f"format string {fmt!r} does not compile: {exc}") from None
    return LogFormat(name, "regex", pattern, unit)


def compile_nginx(fmt: str) -> LogFormat:
    """Compile an Nginx `log_format` string ($remote_addr ... $status ...) to a parser."""
    tokens: list[Token] = []
    for m in _NGINX_TOKEN.finditer(fmt):
        var = m.group(1) or m.group(2)
        group, pattern, unit = _NGINX_VARS.get(var, ("", r"\S*", ""))
        if var.startswith("http_") and var not in _NGINX_VARS:
            pattern = r".+?"
        tokens.append((m.start(), m.end(), group, pattern, unit))
    return _assemble(fmt, tokens, "nginx")


def compile_apache(fmt: str) -> LogFormat:
    """Compile an Apache `LogFormat` string (%h %l %u %t \\"%r\\" %>s %b ...) to a parser."""
    fmt = fmt.replace('\\"', '"')
    tokens: list[Token] = []
    pos = 0
    for m in _APACHE_TOKEN.finditer(fmt):
        if "%" in fmt[pos : m.start()]:
            raise UserError(f"format string has a stray '%' near {fmt[pos : m.start() + 2]!r}")
        pos = m.end()
        arg, letter = m.group(1), m.group(2)
        span = (m.start(), m.end())
        if letter == "%":
            continue
        if letter == "i" and arg is not None:
            tokens.append((*span, _APACHE_HEADERS.get(arg.lower(), ""), r".+?", ""))
        elif letter == "T" and arg in ("ms", "us", "s"):
            tokens.append((*span, "duration", r"\d+(?:\.\d+)?", arg))
        elif letter == "t":
            tokens.append((*span, "time", TIME, ""))
        elif arg is not None and letter in ("e", "n", "o", "C", "x", "^"):
            tokens.append((*span, "", r"\S+", ""))
        elif letter in _APACHE_DIRECTIVES:
            tokens.append((*span, *_APACHE_DIRECTIVES[letter]))
        else:
            raise UserError(f"unknown LogFormat directive %{letter} in {fmt!r}")
    if "%" in fmt[pos:]:
        raise UserError(f"format string has a stray '%' near {fmt[pos:][:10]!r}")
    return _assemble(fmt, tokens, "apache")


def compile_format_string(fmt: str) -> LogFormat:
    """An Nginx ($var) or Apache (%x) format string, told apart by its tokens."""
    if not fmt.strip():
        raise UserError("format string is empty")
    if _NGINX_TOKEN.search(fmt):
        return compile_nginx(fmt)
    if "%" in fmt:
        return compile_apache(fmt)
    raise UserError(f"format string {fmt!r} has no $variables or %directives")


# --- detection ---------------------------------------------------------------------------------

_DETECT_ORDER = (
    "vhost_combined_rt",
    "combined_rt",
    "common_rt",
    "vhost_combined",
    "combined",
    "common",
)


def detect(sample: list[str]) -> LogFormat | None:
    """The format most of the sample lines match, or None."""
    lines = [s.rstrip("\r\n") for s in sample if s.strip()]
    if not lines:
        return None
    if sum(_is_json_object(s) for s in lines) * 2 > len(lines):
        return BUILTIN["jsonl"]
    best: tuple[int, str] | None = None
    for name in _DETECT_ORDER:
        rx = re.compile(f"^{BUILTIN[name].pattern}$")
        hits = sum(1 for s in lines if rx.match(s))
        if hits and (best is None or hits > best[0]):
            best = (hits, name)
    if best is not None and best[0] * 2 > len(lines):
        return BUILTIN[best[1]]
    if _looks_like_csv(lines):
        return BUILTIN["csv"]
    return None


def _is_json_object(line: str) -> bool:
    if not line.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _looks_like_csv(lines: list[str]) -> bool:
    header = lines[0]
    fields = [f.strip().strip('"').lower() for f in header.split(",")]
    return len(fields) >= 2 and any(f in CSV_ALIASES["time"] for f in fields)


# Header names recognised for CSV and JSON-lines logs, per canonical field.
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "@timestamp", "ts", "datetime", "date", "time_local"),
    "ip": ("ip", "client_ip", "remote_addr", "client", "clientip", "c-ip", "remote_ip"),
    "method": ("method", "request_method", "verb", "cs-method"),
    "path": ("path", "url", "uri", "request_uri", "cs-uri-stem"),
    "request": ("request",),
    "protocol": ("protocol", "server_protocol", "http_version"),
    "status": ("status", "status_code", "code", "sc-status", "response"),
    "bytes": ("bytes", "size", "body_bytes_sent", "bytes_sent", "sc-bytes", "response_size"),
    "referer": ("referer", "referrer", "http_referer", "cs(referer)"),
    "ua": ("ua", "user_agent", "useragent", "http_user_agent", "agent", "cs(user-agent)"),
    "vhost": ("vhost", "host", "server_name", "http_host"),
    "duration": ("duration", "request_time", "latency", "response_time", "time_taken", "rt"),
}


def column_mapping(header: list[str], overrides: dict[str, str]) -> dict[str, str]:
    """Canonical field -> source column, from the header names plus explicit overrides."""
    lowered = {h.strip().lower(): h for h in header}
    mapping: dict[str, str] = {}
    for canon, aliases in CSV_ALIASES.items():
        for alias in aliases:
            if alias in lowered:
                mapping[canon] = lowered[alias]
                break
    for canon, source in overrides.items():
        if canon not in CANONICAL:
            raise UserError(f"unknown field {canon!r} in column mapping; known: {CANONICAL}")
        mapping[canon] = source
    return mapping
