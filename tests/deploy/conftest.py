"""Rendered Kubernetes manifests, once per session (fixtures for tests/deploy)."""

from __future__ import annotations

import pytest

from tests.deploy.k8s import Resource
from tests.deploy.kustomize import render
from tests.deploy.paths import K8S


@pytest.fixture(scope="session")
def base() -> list[Resource]:
    return render(K8S / "base")


@pytest.fixture(scope="session")
def production() -> list[Resource]:
    return render(K8S / "overlays" / "production")


@pytest.fixture(scope="session", params=["base", "production"])
def rendered(request: pytest.FixtureRequest) -> list[Resource]:
    resources: list[Resource] = request.getfixturevalue(request.param)
    return resources
