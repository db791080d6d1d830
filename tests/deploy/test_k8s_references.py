"""What the manifests name exists: probe paths and ports, settings, Secrets, selectors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from aiokafka import TopicPartition

from api.routes import ROUTES
from probes.health import Health
from probes.server import serve
from tests.deploy.envfiles import settings_from
from tests.deploy.k8s import (
    Resource,
    config_map_refs,
    containers,
    env_names,
    named,
    pod_templates,
    port_number,
    secret_refs,
    selects,
)
from tests.deploy.paths import IMAGE_UID, K8S, setting_names
from tests.deploy.probes import probe_urls
from wavestack.cli import KEYED_ROLE_PORTS, build_parser

PROCESSES = ("api", "worker", "publisher", "projector", "webhooks", "integrations")
# wavestack/cli.py: the decider serves metrics and probes on the port, media on +1 (both
# in the worker's container), the publisher, webhooks and integrations further up.
METRICS_OFFSETS: dict[str, tuple[int, ...]] = {
    "worker": (0, 1),
    **{role: (offset,) for role, offset in KEYED_ROLE_PORTS.items()},
}
# The processes that seal or open secrets (they refuse to start without the ring).
KEY_RING = {"api", "publisher", "webhooks", "integrations"}


def _config(resources: list[Resource]) -> dict[str, str]:
    data: dict[str, str] = named(resources, "ConfigMap")["wavestack-config"]["data"]
    return data


def _deployment(resources: list[Resource], process: str) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = named(resources, "Deployment")[f"wavestack-{process}"]["spec"]["template"]["spec"]
    [container] = spec["containers"]
    return spec, container


def test_there_is_one_deployment_per_process_and_a_migration_job(rendered: list[Resource]) -> None:
    assert set(named(rendered, "Deployment")) == {f"wavestack-{p}" for p in PROCESSES}
    job = named(rendered, "Job")["wavestack-migrate"]["spec"]["template"]["spec"]
    assert [c["args"] for c in containers(job)] == [["topics"], ["migrate"]]


def test_every_command_is_one_the_cli_knows(rendered: list[Resource]) -> None:
    parser = build_parser()
    for _, template in pod_templates(rendered):
        for container in containers(template["spec"]):
            parsed = parser.parse_args(container["args"])
            assert parsed.command == container["args"][0]
            if parsed.command == "worker":
                role = parsed.role if parsed.role != "all" else "worker"
                assert container["name"] == role


def test_the_api_probes_are_its_unauthenticated_health_routes(rendered: list[Resource]) -> None:
    open_routes = {r.path for r in ROUTES if r.method == "GET" and r.scope is None}
    _, api = _deployment(rendered, "api")
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe"):
        assert api[probe]["httpGet"]["path"] in open_routes
        assert port_number(api, api[probe]["httpGet"]["port"]) == int(
            _config(rendered)["WAVESTACK_API_PORT"]
        )


@pytest.mark.parametrize(
    "process", ["worker", "publisher", "projector", "webhooks", "integrations"]
)
def test_every_process_is_probed_on_the_ports_it_serves_its_probes_on(
    rendered: list[Resource], process: str
) -> None:
    config = _config(rendered)
    ports = (
        (int(config["WAVESTACK_PROJECTOR_METRICS_PORT"]),)
        if process == "projector"
        else tuple(
            int(config["WAVESTACK_WORKER_METRICS_PORT"]) + o for o in METRICS_OFFSETS[process]
        )
    )
    _, container = _deployment(rendered, process)
    # Liveness (and the startup probe that holds it off while the process loads) asks
    # the heartbeat; readiness asks whether the partitions are assigned and restored.
    for probe, path in (
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ):
        expected = [f"http://127.0.0.1:{port}{path}" for port in ports]
        assert probe_urls(container, container[probe]) == expected, probe
    assert {p["containerPort"] for p in container["ports"]} == set(ports)


@pytest.mark.parametrize(
    "process", ["worker", "publisher", "projector", "webhooks", "integrations"]
)
def test_a_slow_start_or_a_restore_never_meets_the_liveness_probe(
    rendered: list[Resource], process: str
) -> None:
    _, container = _deployment(rendered, process)
    startup, liveness = container["startupProbe"], container["livenessProbe"]
    # The startup probe gives the imports two minutes before liveness counts at all.
    budget = (
        startup.get("initialDelaySeconds", 0)
        + startup["periodSeconds"] * startup["failureThreshold"]
    )
    assert budget >= 120
    # Restores are readiness's business: liveness waits for three misses in a row.
    assert liveness["failureThreshold"] >= 3
    assert liveness["timeoutSeconds"] >= 2


def test_metrics_services_list_pods_that_are_not_ready(rendered: list[Resource]) -> None:
    # A restoring pod, or one that cannot reach Kafka, is the one whose metrics matter.
    for name, service in named(rendered, "Service").items():
        if name.endswith("-metrics"):
            assert service["spec"]["publishNotReadyAddresses"] is True, name


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _get_json(url: str) -> tuple[int, dict[str, Any]]:
    status, body = _get(url)
    answer: dict[str, Any] = json.loads(body)
    return status, answer


def test_the_server_the_processes_start_answers_metrics_and_both_probe_paths() -> None:
    # What wavestack/cli.py starts on a metrics port, here on a free loopback port.
    health = Health()
    server = serve(0, "127.0.0.1", health)
    try:
        base = f"http://127.0.0.1:{server.port}"
        status, metrics = _get(f"{base}/metrics")
        assert status == 200
        assert b"# HELP" in metrics
        for path in ("/healthz", "/readyz"):
            status, body = _get_json(base + path)
            assert (status, body["reason"]) == (503, "starting"), path
        health.beat()
        health.assigned({TopicPartition("p.events", 0)})
        assert _get_json(f"{base}/healthz")[0] == 200
        status, body = _get_json(f"{base}/readyz")
        assert status == 200
        assert body == {
            "status": "ready",
            "detail": "consuming",
            "partitions": ["p.events:0"],
            "standby": False,
            "phase": "ready",
            "since_seconds": body["since_seconds"],
        }
    finally:
        server.close()


def test_every_variable_set_is_a_real_setting_with_a_valid_value(rendered: list[Resource]) -> None:
    names = setting_names()
    config = _config(rendered)
    assert set(config) <= names
    settings = settings_from(config)
    assert settings.api_host == "0.0.0.0"  # probes come from outside the pod
    for _, template in pod_templates(rendered):
        for container in containers(template["spec"]):
            assert env_names(container) <= names, container["name"]


def test_mounts_sit_where_the_settings_point(rendered: list[Resource]) -> None:
    config = _config(rendered)
    wanted = {
        "media": config["WAVESTACK_MEDIA_ROOT"],
        "faust": config["WAVESTACK_WORKER_DATA_DIR"],
        "jwt-keys": config["WAVESTACK_AUTH_KEYS_DIR"],
    }
    for _, template in pod_templates(rendered):
        spec = template["spec"]
        volumes = {v["name"] for v in spec.get("volumes", [])}
        for container in containers(spec):
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes
                if mount["name"] in wanted:
                    assert mount["mountPath"] == wanted[mount["name"]]
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for _, t in pod_templates(rendered)
        for v in t["spec"].get("volumes", [])
        if "persistentVolumeClaim" in v
    }
    assert claims <= set(named(rendered, "PersistentVolumeClaim"))


def test_secrets_are_referenced_never_defined_and_the_example_documents_them(
    rendered: list[Resource],
) -> None:
    assert not named(rendered, "Secret")
    examples = {
        doc["metadata"]["name"]: set(doc["stringData"])
        for doc in yaml.safe_load_all((K8S / "secrets.example.yaml").read_text())
    }
    used: set[tuple[str, str | None]] = set()
    for _, template in pod_templates(rendered):
        used |= secret_refs(template["spec"])
        assert config_map_refs(template["spec"]) <= set(named(rendered, "ConfigMap"))
    assert {name for name, _ in used} == set(examples)
    for name, key in used:
        assert key is None or key in examples[name], (name, key)
    # The key ring only where credentials are sealed or opened.
    for _, template in pod_templates(rendered):
        for container in containers(template["spec"]):
            has_ring = "WAVESTACK_SECRET_KEY" in env_names(container)
            assert has_ring == (container["name"] in KEY_RING), container["name"]


def test_every_deployment_has_exactly_its_own_disruption_budget(rendered: list[Resource]) -> None:
    budgets = named(rendered, "PodDisruptionBudget").values()
    for name, deployment in named(rendered, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(deployment["spec"]["selector"]["matchLabels"], labels)
        mine = [b for b in budgets if selects(b["spec"]["selector"]["matchLabels"], labels)]
        assert len(mine) == 1, name
        # With one replica a minAvailable would forbid every drain.
        assert mine[0]["spec"]["maxUnavailable"] == 1


def test_services_and_spread_constraints_select_their_pods(rendered: list[Resource]) -> None:
    deployments = named(rendered, "Deployment").values()
    for service in named(rendered, "Service").values():
        [target] = [
            d
            for d in deployments
            if selects(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        [container] = target["spec"]["template"]["spec"]["containers"]
        for port in service["spec"]["ports"]:
            port_number(container, port["targetPort"])
    for deployment in deployments:
        template = deployment["spec"]["template"]
        spread = template["spec"]["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {
            "topology.kubernetes.io/zone",
            "kubernetes.io/hostname",
        }
        for constraint in spread:
            assert selects(
                constraint["labelSelector"]["matchLabels"], template["metadata"]["labels"]
            )


def test_every_container_is_bounded_and_locked_down(rendered: list[Resource]) -> None:
    for resource, template in pod_templates(rendered):
        spec = template["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == IMAGE_UID
        assert spec["serviceAccountName"] == "wavestack"
        for container in containers(spec):
            where = f"{resource['metadata']['name']}/{container['name']}"
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, where
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
    assert named(rendered, "ServiceAccount")["wavestack"]["automountServiceAccountToken"] is False


def test_every_process_can_be_given_kafka_sasl_credentials_from_the_secret(
    rendered: list[Resource],
) -> None:
    """Every container talks to Kafka; its SASL user and password come from the Secret,
    optional, so a cluster without SASL needs neither key."""
    for _, template in pod_templates(rendered):
        for container in template["spec"]["containers"]:
            refs = {
                e["name"]: e["valueFrom"]["secretKeyRef"]
                for e in container.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})
            }
            for name, key in (
                ("WAVESTACK_KAFKA_SASL_USERNAME", "kafka-sasl-username"),
                ("WAVESTACK_KAFKA_SASL_PASSWORD", "kafka-sasl-password"),
            ):
                assert refs.get(name) == {
                    "name": "wavestack-secrets",
                    "key": key,
                    "optional": True,
                }, (container["name"], name)
