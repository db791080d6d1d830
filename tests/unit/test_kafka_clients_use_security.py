"""Every Kafka client the code builds gets the TLS and SASL settings: checked on the source.

A client built without them works against the local PLAINTEXT stack and fails only on
a secured cluster, so the tests against the local stack would never notice.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "streams", "projections", "wavestack", "clipper", "vault")
CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "AIOKafkaClient"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _splats_client_options(call: ast.Call) -> bool:
    return any(
        kw.arg is None
        and isinstance(kw.value, ast.Call)
        and _name(kw.value.func) == "kafka_client_options"
        for kw in call.keywords
    )


def _calls() -> list[tuple[str, ast.Call]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            rel = f"{path.relative_to(ROOT).as_posix()}"
            found += [(rel, n) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    return found


def test_every_aiokafka_client_is_built_with_the_security_options() -> None:
    clients = [(path, call) for path, call in _calls() if _name(call.func) in CLIENTS]
    assert clients, "the walker found no Kafka client at all"
    missing = [
        f"{path}:{call.lineno} {_name(call.func)}"
        for path, call in clients
        if not _splats_client_options(call)
    ]
    assert missing == [], "build them with **kafka_client_options(settings)"


def test_the_walker_sees_a_client_built_without_them() -> None:
    bad = ast.parse("AIOKafkaConsumer(bootstrap_servers=b, **other(x))").body[0]
    good = ast.parse("aiokafka.AIOKafkaConsumer(**kafka_client_options(s), group_id=g)").body[0]
    assert isinstance(bad, ast.Expr) and isinstance(bad.value, ast.Call)
    assert isinstance(good, ast.Expr) and isinstance(good.value, ast.Call)
    assert not _splats_client_options(bad.value)
    assert _splats_client_options(good.value)
