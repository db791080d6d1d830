"""Cursor pagination as async iteration: ``async for item in client.items(...)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from client.http import Http, Params

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


class Pages(Generic[M]):
    """A list endpoint, fetched one page at a time as it is iterated.

    Iterating twice fetches twice (each time from the start): a list is a query, not
    a snapshot.
    """

    def __init__(
        self, http: Http, path: str, model: type[M], params: Params, page_size: int
    ) -> None:
        self._http = http
        self._path = path
        self._model = model
        self._params = params
        self._page_size = page_size

    async def page(self, cursor: str | None = None) -> Page[M]:
        params = {**self._params, "limit": self._page_size, "cursor": cursor}
        body = (await self._http.call("GET", self._path, params=params)).json()
        items = [self._model.model_validate(raw) for raw in body["items"]]
        return Page(items=items, next_cursor=body.get("next_cursor"))

    async def pages(self) -> AsyncIterator[Page[M]]:
        cursor: str | None = None
        while True:
            page = await self.page(cursor)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def _items(self) -> AsyncIterator[M]:
        async for page in self.pages():
            for item in page.items:
                yield item

    def __aiter__(self) -> AsyncIterator[M]:
        return self._items()

    async def collect(self, limit: int | None = None) -> list[M]:
        """Every item (or the first ``limit``), fetching only the pages needed."""
        out: list[M] = []
        async for item in self:
            if limit is not None and len(out) >= limit:
                break
            out.append(item)
        return out
