"""A small Dockerfile reader: instructions per build stage, as the tests need them.

It follows the Dockerfile reference for what our file uses (parser directives, comment
lines, backslash continuations, JSON and shell forms, `FROM ... AS name`) and refuses
what it does not understand (heredocs, another escape character), so a test never
passes on a misread file.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

INSTRUCTIONS = frozenset(
    {
        *("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK"),
        *("LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME"),
        "WORKDIR",
    }
)
DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
FROM_ARGS = re.compile(r"^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", re.IGNORECASE)


class DockerfileError(ValueError):
    pass


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON (exec) form's argv, or None for the shell form."""
        if not self.args.startswith("["):
            return None
        value = json.loads(self.args)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DockerfileError(f"line {self.line}: exec form must be a list of strings")
        return value


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.args):
                if "=" not in pair:
                    raise DockerfileError(f"line {instruction.line}: use ENV key=value")
                key, value = pair.split("=", 1)
                values[key] = value
        return values


@dataclass
class Dockerfile:
    directives: dict[str, str]
    global_args: list[Instruction]
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Joins continuations and drops comment lines (also those inside a continuation)."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        lines.append((start, " ".join(p for p in pending if p)))
        pending = []
    if pending:
        raise DockerfileError(f"line {start}: continuation runs past the end of the file")
    return lines


def _directives(text: str) -> dict[str, str]:
    # Directives are only read at the very top, before any other line or comment.
    found: dict[str, str] = {}
    for raw in text.splitlines():
        match = DIRECTIVE.match(raw.strip())
        if not match:
            break
        found[match.group(1).lower()] = match.group(2)
    return found


def parse(text: str) -> Dockerfile:
    directives = _directives(text)
    if directives.get("escape", "\\") != "\\":
        raise DockerfileError("only the default escape character is supported")
    global_args: list[Instruction] = []
    stages: list[Stage] = []
    for number, line in _logical_lines(text):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword not in INSTRUCTIONS:
            raise DockerfileError(f"line {number}: unknown instruction {keyword!r}")
        if "<<" in args and keyword in {"RUN", "COPY", "ADD"}:
            raise DockerfileError(f"line {number}: heredocs are not supported")
        instruction = Instruction(keyword, args.strip(), number)
        if keyword == "FROM":
            match = FROM_ARGS.match(instruction.args)
            if not match:
                raise DockerfileError(f"line {number}: cannot read FROM {args!r}")
            stages.append(Stage(base=match.group(1), name=match.group(2)))
        elif not stages:
            if keyword != "ARG":
                raise DockerfileError(f"line {number}: only ARG may come before FROM")
            global_args.append(instruction)
        else:
            stages[-1].instructions.append(instruction)
    if not stages:
        raise DockerfileError("no FROM: not a Dockerfile")
    return Dockerfile(directives, global_args, stages)


def read(path: Path) -> Dockerfile:
    return parse(path.read_text())
