"""Every process `make dev` runs is deployed by compose and by Kubernetes too."""

from __future__ import annotations

from typing import Any

import yaml  # type: ignore[import-untyped]

from tests.deploy.k8s import Resource, named
from tests.deploy.paths import COMPOSE
from wavestack.cli import build_parser
from wavestack.dev import CHILDREN

# `wavestack worker` (role all) runs the decider and the media process together.
TOGETHER = {"decider": "all", "media": "all"}


def _roles(argv: list[str]) -> set[str]:
    """The dev children an argv runs (by their role; `worker` alone is two of them)."""
    parsed = build_parser().parse_args(argv)
    if parsed.command != "worker":
        return {parsed.command}
    if parsed.role == "all":
        return {name for name, role in TOGETHER.items() if role == "all"}
    return {parsed.role}


def _dev_roles() -> set[str]:
    return set().union(*(_roles(list(argv)) for argv in CHILDREN.values()))


def test_compose_runs_every_process_of_make_dev() -> None:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    commands = [s["command"] for s in compose["services"].values() if "command" in s]
    deployed = set().union(*(_roles(c) for c in commands if c not in (["topics"], ["migrate"])))
    assert deployed == _dev_roles()


def test_kubernetes_runs_every_process_of_make_dev(rendered: list[Resource]) -> None:
    deployments = named(rendered, "Deployment").values()
    argvs = [c["args"] for d in deployments for c in d["spec"]["template"]["spec"]["containers"]]
    assert set().union(*(_roles(a) for a in argvs)) == _dev_roles()
