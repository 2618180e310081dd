"""Everything the server keeps about the caller, in one piece (the right to a copy of one's data)."""

from __future__ import annotations

from dataclasses import dataclass

from application.accounts.ports import ProviderKeyRepository
from application.accounts.provider_keys import ProviderKeyInfo
from application.auth.authenticate import Principal
from application.errors import PermissionDenied
from application.history import HistoryFilters, HistoryPageRequest, HistoryPosition, HistoryStore
from application.pagination import MAX_PAGE_SIZE, Cursor, PageRequest
from application.ports import ApiTokenRepository, UsageRepository
from domain.api_tokens import ApiToken, Scope
from domain.history import HistoryEntry
from domain.usage import UsageSummary
from domain.users import User


@dataclass(frozen=True, slots=True)
class MyData:
    user: User
    api_tokens: list[ApiToken]
    provider_keys: list[ProviderKeyInfo]  # hints only: a key itself never leaves the server
    usage: UsageSummary
    history: list[HistoryEntry]


class ExportMyData:
    raises = (PermissionDenied,)

    def __init__(
        self,
        tokens: ApiTokenRepository,
        keys: ProviderKeyRepository,
        usage: UsageRepository,
        history: HistoryStore,
    ) -> None:
        self._tokens = tokens
        self._keys = keys
        self._usage = usage
        self._history = history

    async def __call__(self, principal: Principal) -> MyData:
        principal.require(Scope.READ)
        user_id = principal.user.id
        tokens: list[ApiToken] = []
        cursor: str | None = ""
        while cursor is not None:
            page = await self._tokens.list_for_user(
                user_id, PageRequest(MAX_PAGE_SIZE, Cursor.decode(cursor) if cursor else None)
            )
            tokens += page.items
            cursor = page.next_cursor
        history: list[HistoryEntry] = []
        after: HistoryPosition | None = None
        while True:
            found = await self._history.list_for_user(
                user_id, HistoryFilters(), HistoryPageRequest(MAX_PAGE_SIZE, after)
            )
            history += found.entries
            if found.next is None:
                break
            after = found.next
        keys = [ProviderKeyInfo.of(k) for k in await self._keys.list(user_id)]
        return MyData(principal.user, tokens, keys, await self._usage.summary(user_id), history)
