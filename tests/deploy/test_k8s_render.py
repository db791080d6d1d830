"""The kustomizations render as kustomize would, into resources valid for Kubernetes."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

from tests.deploy.k8s import Resource, named
from tests.deploy.kustomize import KustomizeError, merge, render
from tests.deploy.paths import K8S

# The oldest Kubernetes release still maintained upstream and the newest
# kubernetes-validate ships schemas for.
VERSIONS = ("1.35.0", "1.37.0")


@pytest.mark.parametrize("version", VERSIONS)
def test_every_resource_is_valid_in_strict_mode(rendered: list[Resource], version: str) -> None:
    problems = []
    for resource in rendered:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{resource['kind']}/{resource['metadata']['name']}: {exc.message}")
    assert problems == []


@pytest.mark.parametrize("version", VERSIONS)
def test_the_operators_secret_examples_are_valid(version: str) -> None:
    examples = list(yaml.safe_load_all((K8S / "secrets.example.yaml").read_text()))
    assert [e["kind"] for e in examples] == ["Secret", "Secret"]
    for example in examples:
        kubernetes_validate.validate(example, version, strict=True)
        # Placeholders only: nothing secret is committed.
        assert set(example["stringData"].values()) == {""}


def test_strict_validation_catches_a_misspelt_field(base: list[Resource]) -> None:
    deployment = named(base, "Deployment")["wavestack-api"]
    broken = merge(
        deployment,
        {"spec": {"template": {"spec": {"containers": [{"name": "api", "readinessProbes": {}}]}}}},
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_the_overlay_sets_namespace_image_replicas_and_resources(
    base: list[Resource], production: list[Resource]
) -> None:
    assert {r["metadata"].get("namespace") for r in production} == {"wavestack"}
    assert {r["metadata"].get("namespace") for r in base} == {None}
    deployments = named(production, "Deployment")
    images = {
        c["image"]
        for r in [*deployments.values(), named(production, "Job")["wavestack-migrate"]]
        for c in [
            *r["spec"]["template"]["spec"].get("initContainers", []),
            *r["spec"]["template"]["spec"]["containers"],
        ]
    }
    assert images == {"registry.example.com/wavestack:0.1.0"}
    replicas = {name: d["spec"]["replicas"] for name, d in deployments.items()}
    assert replicas == {
        "wavestack-api": 4,
        "wavestack-worker": 3,
        "wavestack-publisher": 2,
        "wavestack-projector": 2,
        "wavestack-webhooks": 1,
        "wavestack-integrations": 1,
    }
    [api] = deployments["wavestack-api"]["spec"]["template"]["spec"]["containers"]
    assert api["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}
    # The patch replaced the resources and left the rest of the container alone.
    base_spec = named(base, "Deployment")["wavestack-api"]["spec"]["template"]["spec"]
    [base_api] = base_spec["containers"]
    assert {k: v for k, v in api.items() if k != "resources"} == {
        k: v for k, v in base_api.items() if k not in {"resources", "image"}
    } | {"image": api["image"]}


def test_the_overlay_changes_only_the_config_it_names(
    base: list[Resource], production: list[Resource]
) -> None:
    before = named(base, "ConfigMap")["wavestack-config"]["data"]
    after = named(production, "ConfigMap")["wavestack-config"]["data"]
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"WAVESTACK_KAFKA_BOOTSTRAP", "WAVESTACK_CLIP_CONCURRENCY"}
    assert set(after) == set(before)
    assert len(after["WAVESTACK_KAFKA_BOOTSTRAP"].split(",")) == 3


def test_strategic_merge_merges_named_lists_and_replaces_others() -> None:
    target = {"containers": [{"name": "a", "image": "x", "args": ["1", "2"]}, {"name": "b"}]}
    patch = {"containers": [{"name": "a", "args": ["3"]}, {"name": "c"}]}
    assert merge(target, patch) == {
        "containers": [{"name": "a", "image": "x", "args": ["3"]}, {"name": "b"}, {"name": "c"}]
    }
    assert merge({"a": 1, "b": 2}, {"b": None}) == {"a": 1}


def _kustomization(tmp_path: Path, body: str) -> Path:
    (tmp_path / "kustomization.yaml").write_text(body)
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    return tmp_path


@pytest.mark.parametrize(
    "body",
    [
        "resources: [cm.yaml]\ncommonLabels: {a: b}\n",
        "resources: [cm.yaml]\npatches: [{path: p.yaml, target: {kind: ConfigMap}}]\n",
        "resources: [cm.yaml]\nreplicas: [{name: nothing, count: 2}]\n",
    ],
)
def test_the_renderer_refuses_what_it_cannot_render_faithfully(tmp_path: Path, body: str) -> None:
    with pytest.raises(KustomizeError):
        render(_kustomization(tmp_path, body))


def test_the_renderer_refuses_patch_directives(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n$patch: delete\n"
    )
    with pytest.raises(KustomizeError):
        render(_kustomization(tmp_path, "resources: [cm.yaml]\npatches: [{path: p.yaml}]\n"))
