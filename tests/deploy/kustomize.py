"""Renders a kustomization the way `kubectl kustomize` does, for the features we use.

Supported: `resources` (files and directories), `namespace`, `images`, `replicas`
and `patches` given by `path` holding one strategic-merge patch of plain fields.
Anything else in a kustomization, or a patch directive (`$patch`, ...), is refused,
so the overlay cannot quietly grow a feature this renderer would get wrong.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

Resource = dict[str, Any]
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
# Strategic-merge keys of the lists we patch (Kubernetes' patchMergeKey); other
# lists are replaced whole, as the API types declare for them.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}
CLUSTER_SCOPED = {
    "Namespace",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
}
WORKLOADS = {"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job"}


class KustomizeError(ValueError):
    pass


def _load(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def merge(target: Any, patch: Any, field: str = "") -> Any:
    """A strategic merge patch of ``patch`` onto ``target`` (both left unchanged)."""
    if isinstance(patch, dict) and isinstance(target, dict):
        merged = copy.deepcopy(target)
        for key, value in patch.items():
            if key.startswith("$"):
                raise KustomizeError(f"patch directive {key} is not supported")
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = merge(target.get(key), value, key)
        return merged
    if isinstance(patch, list) and isinstance(target, list) and field in MERGE_KEYS:
        key = MERGE_KEYS[field]
        merged_list = copy.deepcopy(target)
        for item in patch:
            match = [i for i, t in enumerate(merged_list) if t.get(key) == item.get(key)]
            if match:
                merged_list[match[0]] = merge(merged_list[match[0]], item, field)
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def _identity(resource: Resource) -> tuple[str, str]:
    return resource["kind"], resource["metadata"]["name"]


def _pod_spec(resource: Resource) -> dict[str, Any] | None:
    if resource["kind"] not in WORKLOADS:
        return None
    spec: dict[str, Any] = resource["spec"]["template"]["spec"]
    return spec


def _set_image(image: str, rule: dict[str, str]) -> str:
    # The name is what comes before the tag or digest (a registry port has a '/' after it).
    name, at, digest = image.partition("@")
    tag = ""
    tag_at = name.rfind(":")
    if tag_at > name.rfind("/"):
        name, tag = name[:tag_at], name[tag_at:]
    if name != rule["name"]:
        return image
    if "newTag" in rule:
        tag, at, digest = f":{rule['newTag']}", "", ""
    return f"{rule.get('newName', name)}{tag}{at}{digest}"


def render(directory: Path) -> list[Resource]:
    config: dict[str, Any] = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(config) - SUPPORTED
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in config.get("resources", []):
        path = (directory / entry).resolve()
        resources.extend(render(path) if path.is_dir() else _load(path))
    seen = [_identity(r) for r in resources]
    if len(seen) != len(set(seen)):
        raise KustomizeError(f"{directory}: a resource is defined twice")

    for entry in config.get("patches", []):
        if set(entry) != {"path"}:
            raise KustomizeError(f"{directory}: only `patches: - path:` is supported")
        docs = _load(directory / entry["path"])
        if len(docs) != 1:
            raise KustomizeError(f"{entry['path']}: one patch per file")
        [patch] = docs
        index = [i for i, r in enumerate(resources) if _identity(r) == _identity(patch)]
        if not index:
            raise KustomizeError(f"{entry['path']}: patches no resource")
        resources[index[0]] = merge(resources[index[0]], patch)

    for rule in config.get("images", []):
        for resource in resources:
            pod = _pod_spec(resource) or {}
            for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
                container["image"] = _set_image(container["image"], rule)

    for rule in config.get("replicas", []):
        targets = [r for r in resources if _pod_spec(r) and r["metadata"]["name"] == rule["name"]]
        if not targets:
            raise KustomizeError(f"replicas: no workload named {rule['name']}")
        for resource in targets:
            resource["spec"]["replicas"] = rule["count"]

    if "namespace" in config:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = config["namespace"]
    return resources
