"""Walks rendered Kubernetes resources: pods, containers, the names they reference."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Resource = dict[str, Any]


def named(resources: list[Resource], kind: str) -> dict[str, Resource]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def pod_templates(resources: list[Resource]) -> Iterator[tuple[Resource, dict[str, Any]]]:
    for resource in resources:
        if resource["kind"] in {"Deployment", "Job"}:
            yield resource, resource["spec"]["template"]


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def env_names(container: dict[str, Any]) -> set[str]:
    return {e["name"] for e in container.get("env", [])}


def secret_refs(pod_spec: dict[str, Any]) -> set[tuple[str, str | None]]:
    """(secret, key) pairs a pod reads; key None for a whole Secret mounted."""
    refs: set[tuple[str, str | None]] = set()
    for container in containers(pod_spec):
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                refs.add((source["secretRef"]["name"], None))
    for volume in pod_spec.get("volumes", []):
        if "secret" in volume:
            refs.add((volume["secret"]["secretName"], None))
    return refs


def config_map_refs(pod_spec: dict[str, Any]) -> set[str]:
    names = {
        source["configMapRef"]["name"]
        for container in containers(pod_spec)
        for source in container.get("envFrom", [])
        if "configMapRef" in source
    }
    names.update(v["configMap"]["name"] for v in pod_spec.get("volumes", []) if "configMap" in v)
    return names


def port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    [number] = [p["containerPort"] for p in container.get("ports", []) if p["name"] == port]
    return int(number)
