from __future__ import annotations

from application.auth.authenticate import Principal
from application.errors import PermissionDenied
from application.ports import UsageRepository
from domain.api_tokens import Scope
from domain.usage import UsageSummary


class GetUsage:
    raises = (PermissionDenied,)

    def __init__(self, usage: UsageRepository) -> None:
        self._usage = usage

    async def __call__(self, principal: Principal) -> UsageSummary:
        principal.require(Scope.READ)
        return await self._usage.summary(principal.user.id)
