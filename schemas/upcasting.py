"""Upcasters: turn an old version of a message's data into the next version.

Register one function per (type, from_version). Reading v1 of a type whose current
version is 3 runs the v1->v2 and v2->v3 upcasters in turn. No type has a second
version yet; the chain and its test exist so the first one is a one-line change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]

UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(message_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(message_type, from_version)] = fn
        return fn

    return register


def upcast(message_type: str, version: int, target: int, data: Data) -> Data:
    while version < target:
        step = UPCASTERS.get((message_type, version))
        if step is None:
            raise KeyError(f"no upcaster for {message_type} v{version} -> v{version + 1}")
        data = step(data)
        version += 1
    return data
