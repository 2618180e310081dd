"""Changing a password, and resetting a forgotten one by e-mail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote

from application.access import Limit, Throttle
from application.auth.authenticate import Principal
from application.auth.policy import AuthPolicy
from application.auth.tokens import SessionTokens, TokenPair, fingerprint, new_secret
from application.errors import (
    InvalidCredentials,
    InvalidResetToken,
    NotFound,
    PermissionDenied,
    ServiceBusy,
    TooManyAttempts,
)
from application.ports import (
    ApiTokenRepository,
    Clock,
    EmailMessage,
    EmailOutbox,
    PasswordHasher,
    PasswordResetRecord,
    PasswordResetRepository,
    SessionRepository,
    UnitOfWork,
    UserCache,
    UserRepository,
)
from domain.errors import InvalidField, InvalidInput, check_all
from domain.passwords import check_new_password, context_words, normalize_password
from domain.users import Email, User


class ChangePassword:
    """Needs the current password (guesses are limited); ends every session and returns a fresh pair."""

    raises = (InvalidInput, PermissionDenied, InvalidCredentials, NotFound, TooManyAttempts, ServiceBusy)

    def __init__(
        self,
        users: UserRepository,
        sessions: SessionRepository,
        hasher: PasswordHasher,
        throttle: Throttle,
        tokens: SessionTokens,
        cache: UserCache,
        uow: UnitOfWork,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._hasher = hasher
        self._throttle = throttle
        self._tokens = tokens
        self._cache = cache
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(self, principal: Principal, current_password: str, new_password: str) -> TokenPair:
        principal.require_session()
        new = normalize_password(new_password)
        check_all({"new_password": lambda: check_new_password(new, context_words(principal.user.email))})
        guesses = Limit(
            f"password-change:{principal.user.id}",
            self._policy.password_change_failures,
            self._policy.login_window_seconds,
        )
        reservation = await self._throttle.reserve(guesses)
        try:
            stored = await self._users.get(principal.user.id)
            checked = stored is not None and await self._hasher.verify(
                stored.password_hash, normalize_password(current_password)
            )
        except BaseException:
            await reservation.cancel()  # not a guess: the check could not run
            raise
        if stored is None:
            raise NotFound("User")
        if not checked:
            raise InvalidCredentials
        await self._throttle.forget(guesses)
        new_hash = await self._hasher.hash(new)
        user = await self._users.lock(stored.id)
        if user is None or user.password_hash != stored.password_hash:
            raise InvalidCredentials  # changed by someone else meanwhile: the current password is not current
        now = self._clock.now()
        user = user.with_new_password(new_hash, now)
        await self._users.update(user)
        await self._sessions.revoke_all_for_user(user.id, now)
        pair = await self._tokens.start(user, now)
        await self._uow.commit()
        await self._cache.invalidate(user.id)
        return pair


@dataclass(frozen=True, slots=True)
class ForgotPasswordCommand:
    email: str
    client_ip: str


class AdmitPasswordResetRequest:
    """The part of "forgot password" that answers the caller: limited per address only. It looks nothing
    up, so its answer and its timing are the same for every e-mail; and no number of requests from others
    can make an account's owner hear "too many"."""

    raises = (TooManyAttempts,)

    def __init__(self, throttle: Throttle, policy: AuthPolicy) -> None:
        self._throttle = throttle
        self._policy = policy

    async def __call__(self, cmd: ForgotPasswordCommand) -> None:
        window = self._policy.reset_window_seconds
        await self._throttle.reserve(Limit(f"reset:ip:{cmd.client_ip}", self._policy.reset_requests_per_ip, window))


class SendPasswordResetLink:
    """The part done after answering: if the account exists, a single-use link goes to its outbox.

    Mails to one account are limited (so nobody can flood a mailbox through us) per window of one link
    lifetime, and a request over the limit sends nothing and leaves the last link valid. So whenever a
    request is refused a mail, the last mail went out within the current window, and its link still works:
    the owner always holds a working link, however many requests others make."""

    def __init__(
        self,
        users: UserRepository,
        resets: PasswordResetRepository,
        outbox: EmailOutbox,
        throttle: Throttle,
        uow: UnitOfWork,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._users = users
        self._resets = resets
        self._outbox = outbox
        self._throttle = throttle
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(self, email: str) -> None:
        try:
            address = Email.parse(email).value
        except InvalidField:
            return
        user = await self._users.get_by_email(address)
        if user is None or user.disabled:
            return
        lifetime = self._policy.reset_token_lifetime
        mails = Limit(f"reset:mail:{address}", self._policy.reset_requests_per_account, int(lifetime.total_seconds()))
        try:
            reservation = await self._throttle.reserve(mails)
        except TooManyAttempts:
            return  # the last link sent is still valid (see above); the caller had its answer long ago
        try:
            now = self._clock.now()
            secret = new_secret()
            await self._resets.expire_all_for_user(user.id, now)  # only the newest link works
            await self._resets.add(
                PasswordResetRecord(
                    id=uuid.uuid4(),
                    user_id=user.id,
                    token_hash=fingerprint(secret),
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
            await self._outbox.enqueue(self._message(user, secret), now)
            await self._uow.commit()
        except BaseException:
            await reservation.cancel()  # no mail went out
            raise

    def _message(self, user: User, secret: str) -> EmailMessage:
        minutes = int(self._policy.reset_token_lifetime.total_seconds() // 60)
        link = self._policy.password_reset_url.replace("{token}", quote(secret))
        return EmailMessage(
            to=user.email,
            subject="Reset your Scribe password",
            body=(
                f"Someone asked to reset the password of your Scribe account.\n\n"
                f"To choose a new password, open this link within {minutes} minutes:\n{link}\n\n"
                f"If it was not you, ignore this e-mail; your password stays as it is.\n"
            ),
        )


class ResetPassword:
    """Spends a reset token once, sets the new password, ends every session and revokes API tokens
    (a reset is how an owner takes a stolen account back)."""

    raises = (InvalidInput, InvalidResetToken, ServiceBusy)

    def __init__(
        self,
        users: UserRepository,
        resets: PasswordResetRepository,
        sessions: SessionRepository,
        api_tokens: ApiTokenRepository,
        hasher: PasswordHasher,
        cache: UserCache,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._users = users
        self._resets = resets
        self._sessions = sessions
        self._api_tokens = api_tokens
        self._hasher = hasher
        self._cache = cache
        self._uow = uow
        self._clock = clock

    async def __call__(self, token: str, new_password: str) -> None:
        now = self._clock.now()
        record = await self._resets.find(fingerprint(token))
        if record is None or record.used_at is not None or now >= record.expires_at:
            raise InvalidResetToken
        owner = await self._users.get(record.user_id)
        if owner is None or owner.disabled:
            raise InvalidResetToken
        new = normalize_password(new_password)
        check_all({"new_password": lambda: check_new_password(new, context_words(owner.email))})
        new_hash = await self._hasher.hash(new)  # before the row lock, which is then held for milliseconds
        if not await self._resets.mark_used(record.id, now):
            raise InvalidResetToken
        user = await self._users.lock(record.user_id)
        if user is None or user.disabled:
            raise InvalidResetToken
        await self._users.update(user.with_new_password(new_hash, now))
        await self._sessions.revoke_all_for_user(user.id, now)
        await self._api_tokens.revoke_all_for_user(user.id, now)
        await self._uow.commit()
        await self._cache.invalidate(user.id)
