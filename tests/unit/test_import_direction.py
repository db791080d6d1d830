"""The dependency direction of DESIGN.md §1, checked by walking every import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "schemas",
    "api",
    "streams",
    "clipper",
    "projections",
    "wavestack",
    "vault",
    "client",
    "probes",
)

# What each package may import from the others (itself is always allowed).
ALLOWED: dict[str, set[str]] = {
    "schemas": set(),
    "clipper": {"schemas"},
    "projections": {"schemas", "probes"},
    "streams": {"schemas", "clipper", "vault", "probes"},
    "api": {"schemas", "clipper", "vault"},
    "wavestack": {"schemas", "projections", "streams", "clipper", "vault", "probes"},
    # Credential encryption: the standard library and `cryptography` only (checked below).
    "vault": {"schemas"},
    # The SDK bots install: the command models, nothing of the server (DESIGN §1).
    "client": {"schemas"},
    # The health probes every non-API process serves: they know none of the others.
    "probes": set(),
}
# The CLI is the process wiring: it is the one place that starts the API.
EXCEPTIONS = {("wavestack/cli.py", "api"), ("wavestack/dev.py", "api")}
SCHEMAS_MAY_IMPORT = {"pydantic", "pydantic_core", "annotated_types", "typing_extensions"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def source_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_what_the_design_allows(package: str) -> None:
    violations = []
    for path in source_files(package):
        rel = path.relative_to(ROOT).as_posix()
        for name in imported_modules(path) & set(PACKAGES):
            if name == package or name in ALLOWED[package] or (rel, name) in EXCEPTIONS:
                continue
            violations.append(f"{rel} imports {name}")
    assert violations == []


def test_schemas_import_only_pydantic_and_the_standard_library() -> None:
    import sys

    stdlib = set(sys.stdlib_module_names)
    violations = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in source_files("schemas")
        for name in imported_modules(path)
        if name not in stdlib
        and name not in SCHEMAS_MAY_IMPORT
        and name != "schemas"
        and name != "__future__"
    ]
    assert violations == []


def test_vault_imports_only_cryptography_schemas_and_the_standard_library() -> None:
    import sys

    allowed = set(sys.stdlib_module_names) | {"cryptography", "schemas", "vault", "__future__"}
    violations = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in source_files("vault")
        for name in imported_modules(path)
        if name not in allowed
    ]
    assert violations == []


def test_client_imports_only_schemas_its_http_stack_and_the_standard_library() -> None:
    import sys

    allowed = set(sys.stdlib_module_names) | {"aiohttp", "multidict", "pydantic", "schemas"}
    violations = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in source_files("client")
        for name in imported_modules(path)
        if name not in allowed | {"client", "__future__"}
    ]
    assert violations == []


def test_the_walker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from api.app import create_app\nimport projections.projector\n")
    assert imported_modules(bad) == {"api", "projections"}
