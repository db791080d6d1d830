"""deploy/compose/compose.yaml: valid by the Compose Specification, and what it runs."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

from tests.deploy.envfiles import read_env_file, secret_settings, settings_from
from tests.deploy.paths import COMPOSE, COMPOSE_SCHEMA, setting_names
from tests.deploy.probes import urls_in
from wavestack.cli import KEYED_ROLE_PORTS

PROCESSES = ("api", "worker", "publisher", "projector", "webhooks", "integrations")
ONE_SHOTS = ("topics", "migrate")
BROKERS = ("kafka-1", "kafka-2", "kafka-3")
ENV_FILES = ("wavestack.env", "secrets.env.example")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


@pytest.fixture(scope="module")
def config() -> dict[str, str]:
    return read_env_file(COMPOSE.parent / "wavestack.env")


def _healthcheck_urls(service: dict[str, Any]) -> list[str]:
    return urls_in(" ".join(service["healthcheck"]["test"]))


def test_the_file_is_valid_by_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(compose)]
    assert errors == []


def test_the_schema_refuses_a_broken_file(compose: dict[str, Any]) -> None:
    # So the test above could fail: an unknown service key is an error.
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    broken = {**compose, "services": {**compose["services"], "api": {"imagee": "x"}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_three_kraft_brokers_replicate_everything_three_times(compose: dict[str, Any]) -> None:
    services = compose["services"]
    ids = set()
    for name in BROKERS:
        env = services[name]["environment"]
        assert services[name]["image"].startswith("apache/kafka:4.")
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert services[name]["volumes"] == [f"{name}:/var/lib/kafka/data"]
        voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
        assert voters == [f"{n + 1}@{b}:9093" for n, b in enumerate(BROKERS)]
        ids.add(env["KAFKA_NODE_ID"])
    assert ids == {"1", "2", "3"}


def test_postgres_keeps_its_data_on_a_volume_and_its_password_in_a_secret(
    compose: dict[str, Any],
) -> None:
    postgres = compose["services"]["postgres"]
    assert "postgres:/var/lib/postgresql/data" in postgres["volumes"]
    assert "postgres" in compose["volumes"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "POSTGRES_PASSWORD" not in postgres["environment"]
    assert compose["secrets"]["postgres_password"] == {"file": "secrets/postgres_password"}


def test_every_process_runs_after_both_one_shots(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["topics"]["command"] == ["topics"]
    assert services["migrate"]["command"] == ["migrate"]
    for name in ONE_SHOTS:
        assert services[name]["restart"] == "no"
    assert set(services["topics"]["depends_on"]) == set(BROKERS)
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in PROCESSES:
        command = services[name]["command"]
        assert command[0] == name or command == ["worker", "--role", name]
        needs = services[name]["depends_on"]
        assert {n: needs[n]["condition"] for n in ONE_SHOTS} == dict.fromkeys(
            ONE_SHOTS, "service_completed_successfully"
        )


def test_the_api_runs_two_processes_on_one_port(compose: dict[str, Any]) -> None:
    command = compose["services"]["api"]["command"]
    assert command[command.index("--processes") + 1] == "2"


def test_every_process_is_healthy_only_when_its_readiness_route_says_so(
    compose: dict[str, Any], config: dict[str, str]
) -> None:
    # Compose restarts a container only when it exits, so its one check says whether
    # the process does its work: /readyz (which a stalled event loop fails too).
    services = compose["services"]
    api_port = int(config["WAVESTACK_API_PORT"])
    metrics = int(config["WAVESTACK_WORKER_METRICS_PORT"])
    keyed = {role: metrics + offset for role, offset in KEYED_ROLE_PORTS.items()}
    expected = {
        "api": [f"http://127.0.0.1:{api_port}/readyz"],
        # cli.py: the decider serves on the port, media on the next one.
        "worker": [f"http://127.0.0.1:{metrics}/readyz", f"http://127.0.0.1:{metrics + 1}/readyz"],
        "publisher": [f"http://127.0.0.1:{keyed['publisher']}/readyz"],
        "projector": [f"http://127.0.0.1:{config['WAVESTACK_PROJECTOR_METRICS_PORT']}/readyz"],
        "webhooks": [f"http://127.0.0.1:{keyed['webhooks']}/readyz"],
        "integrations": [f"http://127.0.0.1:{keyed['integrations']}/readyz"],
    }
    assert {name: _healthcheck_urls(services[name]) for name in PROCESSES} == expected
    assert services["api"]["ports"] == [f"{api_port}:{api_port}"]


def test_env_files_name_only_real_settings_with_valid_values() -> None:
    for name in ENV_FILES:
        values = read_env_file(COMPOSE.parent / name)
        unknown = set(values) - setting_names()
        assert not unknown, f"{name}: not settings: {sorted(unknown)}"
    config = read_env_file(COMPOSE.parent / "wavestack.env")
    settings = settings_from(config)
    assert settings.topic_replication_factor == 3
    assert len(settings.kafka_bootstrap.split(",")) == 3


def test_secrets_are_only_in_the_ignored_secrets_file(compose: dict[str, Any]) -> None:
    secrets = secret_settings()
    assert {"WAVESTACK_DATABASE_URL", "WAVESTACK_SECRET_KEY"} <= secrets
    assert not secrets & set(read_env_file(COMPOSE.parent / "wavestack.env"))
    # Each one is documented in the example, set or commented out (optional ones).
    example = (COMPOSE.parent / "secrets.env.example").read_text()
    assert secrets <= set(re.findall(r"^#? ?(WAVESTACK_\w+)=", example, re.MULTILINE))
    for name in (*PROCESSES, *ONE_SHOTS):
        service = compose["services"][name]
        assert not secrets & set(service.get("environment", {})), name
        assert [f["path"] for f in service["env_file"]] == ["wavestack.env", "secrets.env"]
    ignored = (COMPOSE.parent / ".gitignore").read_text().split()
    assert {"secrets.env", "secrets/"} <= set(ignored)


def test_the_wavestack_containers_are_locked_down(compose: dict[str, Any]) -> None:
    for name in (*PROCESSES, *ONE_SHOTS):
        service = compose["services"][name]
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
