"""The image definition, read statically (no Docker engine here to build it)."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.deploy import dockerfile, dockerignore
from tests.deploy.paths import DOCKERFILE, DOCKERIGNORE, IMAGE_UID, packages, setting_names

COMPILERS = ("gcc", "g++", "clang", "build-essential", "make", "cc", "cpp", "python3-dev")


@pytest.fixture(scope="module")
def image() -> dockerfile.Dockerfile:
    return dockerfile.read(DOCKERFILE)


def _apt_packages(stage: dockerfile.Stage) -> set[str]:
    names: set[str] = set()
    for run in stage.all("RUN"):
        for command in re.split(r"&&|;|\|\|", run.args):
            words = shlex.split(command)
            if words[:2] == ["apt-get", "install"]:
                names.update(w for w in words[2:] if not w.startswith("-"))
    return names


def test_the_image_builds_in_two_stages_ending_in_a_slim_runtime(
    image: dockerfile.Dockerfile,
) -> None:
    assert [s.name for s in image.stages] == ["build", "runtime"]
    assert image.stages[-1].base.endswith("-slim-trixie")
    assert image.directives.get("syntax", "").startswith("docker/dockerfile:1")


def test_the_runtime_runs_as_a_fixed_non_root_user(image: dockerfile.Dockerfile) -> None:
    user = image.stage("runtime").last("USER")
    assert user is not None
    assert user.args == f"{IMAGE_UID}:{IMAGE_UID}"
    # Nothing after USER switches back.
    assert image.stage("runtime").instructions[-1].line >= user.line
    assert all(i.keyword != "USER" or i is user for i in image.stage("runtime").instructions)


def test_the_runtime_has_debians_ffmpeg_and_no_compiler(image: dockerfile.Dockerfile) -> None:
    runtime = _apt_packages(image.stage("runtime"))
    assert {"ffmpeg", "tini"} <= runtime
    assert not runtime & set(COMPILERS)
    installs = " ".join(r.args for r in image.stage("runtime").all("RUN"))
    assert "--no-install-recommends" in installs
    # Only the wheels come across from the build stage, through a bind mount.
    assert not [c for c in image.stage("runtime").all("COPY") if "--from" in c.args]
    assert "--mount=type=bind,from=build,source=/wheels" in installs
    assert "--no-index" in installs


def test_the_build_stage_pins_every_dependency_to_the_lock(image: dockerfile.Dockerfile) -> None:
    runs = " ".join(r.args for r in image.stage("build").all("RUN"))
    assert "pip wheel" in runs
    assert "--constraint requirements.lock" in runs


def test_the_entrypoint_is_wavestack_under_an_init(image: dockerfile.Dockerfile) -> None:
    entrypoint = image.stage("runtime").last("ENTRYPOINT")
    assert entrypoint is not None
    assert entrypoint.exec_form() == ["/usr/bin/tini", "--", "wavestack"]


def test_the_image_environment_names_only_real_settings(image: dockerfile.Dockerfile) -> None:
    env = image.stage("runtime").env()
    ours = {name for name in env if name.startswith("WAVESTACK_")}
    assert ours, "the image sets its paths through WAVESTACK_* settings"
    assert ours <= setting_names()
    # Listening on loopback only would make every probe from outside the container fail.
    assert env["WAVESTACK_API_HOST"] == "0.0.0.0"


def test_every_package_is_copied_and_let_through_the_dockerignore(
    image: dockerfile.Dockerfile,
) -> None:
    rules = dockerignore.patterns(DOCKERIGNORE)
    copied = {c.args.split()[0].rstrip("/") for c in image.stage("build").all("COPY")}
    for package in packages():
        assert package in copied, f"{package} is not copied into the build stage"
        assert not dockerignore.excluded(rules, f"{package}/__init__.py")
    for source in copied - set(packages()):
        assert not dockerignore.excluded(rules, source), source


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".stack/keys/k1.key.pem",
        ".stack/secret-key",
        ".venv/bin/python",
        ".git/config",
        "tests/conftest.py",
        "api/__pycache__/app.cpython-311.pyc",
        "docs/operations.md",
    ],
)
def test_the_build_context_leaves_out_secrets_and_clutter(path: str) -> None:
    assert dockerignore.excluded(dockerignore.patterns(DOCKERIGNORE), path)


def test_the_reader_refuses_what_it_does_not_understand() -> None:
    with pytest.raises(dockerfile.DockerfileError):
        dockerfile.parse("FROM x\nRUN <<EOF\necho\nEOF\n")
    with pytest.raises(dockerfile.DockerfileError):
        dockerfile.parse("FROM x\nFROBNICATE y\n")
    parsed = dockerfile.parse("# syntax=docker/dockerfile:1\nFROM a AS b\nRUN x \\\n  # c\n  y\n")
    assert parsed.stage("b").instructions[0].args == "x y"
