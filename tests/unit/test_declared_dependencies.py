"""Every library the shipped code imports is one pyproject.toml declares (or one of theirs).

The container image installs only what pyproject.toml asks for (constrained by the
lock); the dev virtualenv installs the whole lock. A library that arrived only with
another one (rocksdict and tzdata came with faust-streaming) works in every test and
is missing from the image once that other one goes.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.paths import ROOT, packages


def _imported_modules() -> set[str]:
    """Top-level names of every absolute import in the shipped packages."""
    found: set[str] = set()
    for package in packages():
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    found |= {alias.name.partition(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.partition(".")[0])
    return found


def _closure(requirements: list[str]) -> set[str]:
    """The distributions these requirements install, with their own (no extras)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        extras = frozenset(requirement.extras)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for line in metadata.requires(name) or ():
            sub = Requirement(line)
            marker = sub.marker
            wanted = marker is None or any(
                marker.evaluate({"extra": extra}) for extra in (extras or {""})
            )
            if wanted:
                todo.append(Requirement(str(sub).split(";")[0]))
    return {name for name, _ in seen}


def _declared() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return _closure(config["project"]["dependencies"])


def test_every_imported_library_is_installed_by_the_declared_dependencies() -> None:
    ours = set(packages())
    libraries = {
        module
        for module in _imported_modules() - ours
        if module not in sys.stdlib_module_names and module != "__future__"
    }
    assert {"aiokafka", "rocksdict"} <= libraries, "the walker found no imports"
    distributions = metadata.packages_distributions()
    declared = _declared()
    missing = {
        module: distributions.get(module)
        for module in libraries
        if not {canonicalize_name(d) for d in distributions.get(module, ())} & declared
    }
    assert missing == {}, "declare them in pyproject.toml's dependencies"


def test_named_time_zones_do_not_depend_on_the_images_zone_files() -> None:
    # schemas/ and the YouTube adapter look zones up by name; the slim image's OS
    # need not ship the zone files, the tzdata package always does.
    assert "zoneinfo" in _imported_modules()
    assert "tzdata" in _declared()


def test_faust_is_gone_for_good() -> None:
    declared = _declared()
    assert "faust-streaming" not in declared and "mode-streaming" not in declared
    assert not {"faust", "mode"} & _imported_modules()
