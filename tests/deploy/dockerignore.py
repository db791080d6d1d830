"""Which paths a .dockerignore leaves in a build context (Docker's matching rules).

Patterns are cleaned paths matched segment by segment (`*`, `?`, `[...]` within one
segment, `**` across any number); a pattern that matches a directory matches what is
under it; the last matching pattern wins and `!` lets a path back in.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path, PurePosixPath


def patterns(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _segments_match(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_segments_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], head) and _segments_match(rest, parts[1:])


def _matches(pattern: str, path: str) -> bool:
    wanted = [p for p in PurePosixPath(pattern).parts if p != "/"]
    parts = list(PurePosixPath(path).parts)
    # The path itself or any directory above it.
    return any(_segments_match(wanted, parts[:n]) for n in range(1, len(parts) + 1))


def excluded(rules: list[str], path: str) -> bool:
    verdict = False
    for rule in rules:
        negated = rule.startswith("!")
        if _matches(rule[1:] if negated else rule, path):
            verdict = not negated
    return verdict
