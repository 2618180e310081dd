"""The use cases as the container provides them: application classes only, no adapter, so unit tests can assemble
the same provider over in-memory fakes without importing the SDKs and drivers."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all

from application.access import Admission, Throttle
from application.accounts.admin import (
    ChangeAccount,
    ChangeAccountAsAdmin,
    CreateUserAsAdmin,
    ListUsers,
    ListUsersAsAdmin,
    ReportRefusalsAsAdmin,
)
from application.accounts.api_tokens import CreateApiToken, ListApiTokens, RevokeApiToken
from application.accounts.closure import DeleteAccount
from application.accounts.export import ExportMyData
from application.accounts.ports import UserProviderKeys
from application.accounts.profile import UpdateProfile
from application.accounts.provider_keys import (
    CountProviderKeys,
    DecryptedUserKeys,
    DeleteProviderKey,
    ListProviderKeys,
    RotateProviderKeys,
    SaveProviderKey,
)
from application.accounts.usage import GetUsage
from application.auth.authenticate import Authenticate, GetProfile
from application.auth.login import LoginUser
from application.auth.logout import LogoutUser
from application.auth.password import (
    AdmitPasswordResetRequest,
    ChangePassword,
    ResetPassword,
    SendPasswordResetLink,
)
from application.auth.refresh import RefreshTokens
from application.auth.register import CreateAccount, RegisterUser
from application.auth.revocations import AnnounceRevocations
from application.auth.tokens import SessionTokens
from application.email import DeliverQueuedEmails
from application.history import ClearHistory, DeleteHistoryEntry, GetHistoryEntry, ListHistory
from application.history_export import ExportHistory, ExportHistoryEntry
from application.limits import LimitStatus
from application.processing.chain import ProviderChainPolicy
from application.processing.overview import CompareProviders
from application.processing.process import ProcessTranscript
from application.processing.quota import JobQuota
from application.processing.result_cache import CachedResults, PurgeCachedResults
from application.processing.transcripts import FetchTranscript
from application.processing.warming import WarmResultCache


class UseCaseProvider(Provider):
    scope = Scope.REQUEST

    # Application-wide: authenticating a request must not build the request's database graph.
    authenticate = provide(Authenticate, scope=Scope.APP)
    user_provider_keys = provide(DecryptedUserKeys, provides=UserProviderKeys)
    provider_chain = provide(ProviderChainPolicy, scope=Scope.APP)
    cached_results = provide(CachedResults, scope=Scope.APP)

    use_cases = provide_all(
        Throttle,
        LimitStatus,
        Admission,
        JobQuota,
        SessionTokens,
        CreateAccount,
        RegisterUser,
        LoginUser,
        RefreshTokens,
        LogoutUser,
        GetProfile,
        UpdateProfile,
        ChangePassword,
        AdmitPasswordResetRequest,
        SendPasswordResetLink,
        ResetPassword,
        CreateApiToken,
        ListApiTokens,
        RevokeApiToken,
        GetUsage,
        ListUsers,
        ListUsersAsAdmin,
        ChangeAccount,
        ChangeAccountAsAdmin,
        CreateUserAsAdmin,
        ReportRefusalsAsAdmin,
        DeliverQueuedEmails,
        AnnounceRevocations,
        ProcessTranscript,
        PurgeCachedResults,
        WarmResultCache,
        FetchTranscript,
        CompareProviders,
        ListProviderKeys,
        SaveProviderKey,
        DeleteProviderKey,
        RotateProviderKeys,
        CountProviderKeys,
        ListHistory,
        GetHistoryEntry,
        DeleteHistoryEntry,
        ClearHistory,
        ExportHistoryEntry,
        ExportHistory,
        DeleteAccount,
        ExportMyData,
    )
