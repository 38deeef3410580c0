"""Typed readers of environment variables, shared by the Django settings and
gunicorn.conf.py (so that importing them starts nothing). Any NAME can instead be
given as NAME_FILE, a file holding the value (Docker and Kubernetes secrets); a bad
value stops the start with an error naming the variable."""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_raw(name: str) -> str | None:
    """The value of NAME, or the contents of the file NAME_FILE names; None when unset."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path}: cannot read it ({exc})") from exc
    return os.environ.get(name)


def env_str(name: str, default: str = "") -> str:
    raw = env_raw(name)
    return default if raw is None else raw


def env_bool(name: str, default: bool = False) -> bool:
    """`true` or `false` (any case); unset or empty is the default; anything else an error."""
    raw = env_raw(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in {"true", "false"}:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true or false")
    return value == "true"


def env_int(name: str, default: int) -> int:
    raw = env_raw(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_raw(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_RATE = re.compile(
    r"^(?P<limit>\d+)\s*/\s*(?P<count>\d*)\s*"
    r"(?P<unit>s|sec|second|m|min|minute|h|hour|d|day)s?$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def env_rate(name: str, default: str) -> tuple[int, int] | None:
    """(requests, seconds) from "60/minute", "5/15minutes", "1000/hour"; None for "off"."""
    raw = env_str(name, default)
    value = raw.strip().lower()
    if value in {"off", "none", "false", "0", ""}:
        return None
    match = _RATE.match(value)
    if not match or int(match["limit"]) < 1 or match["count"] == "0":
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate: use e.g. 60/minute, 5/15minutes, 1000/hour, or off"
        )
    seconds = _UNIT_SECONDS[match["unit"][0]] * int(match["count"] or 1)
    return int(match["limit"]), seconds


def behind_proxy() -> bool:
    """Whether the settings say a reverse proxy is in front (it sets X-Forwarded-Proto,
    or appends to X-Forwarded-For)."""
    return env_bool("SECURE_PROXY_SSL_HEADER", False) or env_int("TRUSTED_PROXY_COUNT", 0) > 0
