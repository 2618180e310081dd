"""The request's dishka scope, opened on first use (put in place by interfaces.http.middleware).

dishka's own Litestar middleware opens a request scope for every request; the health and dictionary routes
inject nothing, and opening the scope was a tenth of their cost. Handlers still use dishka's `inject`, which
looks for `request.state.dishka_container` and calls its `get`."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from dishka import DEFAULT_COMPONENT, AsyncContainer, Scope
from litestar import Request
from litestar.types import Scope as AsgiScope

T = TypeVar("T")


class LazyRequestContainer:
    def __init__(self, app_container: AsyncContainer, scope: AsgiScope) -> None:
        self._app_container = app_container
        self._scope = scope
        self._opened: AbstractAsyncContextManager[AsyncContainer] | None = None
        self._container: AsyncContainer | None = None

    async def get(self, dependency_type: type[T], component: str | None = DEFAULT_COMPONENT) -> T:
        if self._container is None:
            self._opened = self._app_container({Request: Request(self._scope)}, scope=Scope.REQUEST)
            self._container = await self._opened.__aenter__()
        return await self._container.get(dependency_type, component)

    async def close(self) -> None:
        if self._opened is not None:
            await self._opened.__aexit__(None, None, None)
