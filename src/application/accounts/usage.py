from __future__ import annotations

from dataclasses import dataclass

from application.auth.authenticate import Principal
from application.errors import PermissionDenied
from application.ports import UsageRepository
from application.processing.quota import JobQuota, QuotaStanding
from domain.api_tokens import Scope
from domain.usage import UsageSummary


@dataclass(frozen=True, slots=True)
class UsageReport:
    summary: UsageSummary
    quota: QuotaStanding  # today's jobs on the server's keys


class GetUsage:
    raises = (PermissionDenied,)

    def __init__(self, usage: UsageRepository, quota: JobQuota) -> None:
        self._usage = usage
        self._quota = quota

    async def __call__(self, principal: Principal) -> UsageReport:
        principal.require(Scope.READ)
        return UsageReport(await self._usage.summary(principal.user.id), await self._quota.standing(principal))
