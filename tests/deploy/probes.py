"""The URLs a probe or a healthcheck asks: an HTTP GET, or a Python one-liner's urlopen."""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.k8s import port_number

# `urlopen('http://127.0.0.1:9102/readyz', ...)`, or one URL per port of a loop:
# `urlopen(f'http://127.0.0.1:{p}/readyz', ...) for p in (9100, 9101)`.
_URL = re.compile(r"http://127\.0\.0\.1:\d+/\w*")
_LOOP = re.compile(r"http://127\.0\.0\.1:\{p\}(/\w*)'.* for p in \(([\d, ]+)\)")


def urls_in(command: str) -> list[str]:
    loop = _LOOP.search(command)
    if loop:
        return [f"http://127.0.0.1:{p.strip()}{loop.group(1)}" for p in loop.group(2).split(",")]
    return _URL.findall(command)


def probe_urls(container: dict[str, Any], probe: dict[str, Any]) -> list[str]:
    """What a Kubernetes probe of ``container`` asks (from inside the pod, as loopback)."""
    if "httpGet" in probe:
        get = probe["httpGet"]
        return [f"http://127.0.0.1:{port_number(container, get['port'])}{get['path']}"]
    command = probe["exec"]["command"]
    assert command[:2] == ["python", "-c"], command
    return urls_in(command[2])
