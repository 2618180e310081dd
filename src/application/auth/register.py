from __future__ import annotations

from dataclasses import dataclass

from application.access import Limit, Throttle
from application.auth.policy import AuthPolicy
from application.auth.tokens import SessionTokens, TokenPair
from application.errors import ServiceBusy, TooManyAttempts
from application.ports import Clock, PasswordHasher, UnitOfWork, UserRepository
from domain.errors import InvalidInput, check_all
from domain.passwords import check_new_password, context_words, normalize_password
from domain.users import Email, EmailTaken, Role, User, display_name, language_code


@dataclass(frozen=True, slots=True)
class RegisterCommand:
    email: str
    password: str
    display_name: str | None = None
    preferred_language: str | None = None
    role: Role = Role.USER


class CreateAccount:
    """Validates and stores a new user. Shared by self-registration and `scribe users create`."""

    def __init__(self, users: UserRepository, hasher: PasswordHasher, clock: Clock) -> None:
        self._users = users
        self._hasher = hasher
        self._clock = clock

    async def __call__(self, cmd: RegisterCommand) -> User:
        password = normalize_password(cmd.password)
        parsed = check_all(
            {
                "email": lambda: Email.parse(cmd.email),
                "password": lambda: check_new_password(password, context_words(cmd.email)),
                "display_name": lambda: None if cmd.display_name is None else display_name(cmd.display_name),
                "preferred_language": lambda: language_code(cmd.preferred_language or "pl"),
            }
        )
        user = User.register(
            parsed["email"],
            await self._hasher.hash(password),
            now=self._clock.now(),
            display_name=parsed["display_name"],
            preferred_language=parsed["preferred_language"],
            role=cmd.role,
        )
        await self._users.add(user)  # EmailTaken on a duplicate, decided by the unique index
        return user


class RegisterUser:
    """Self-registration over the API: at most so many new accounts per address and hour, then logged in."""

    raises = (InvalidInput, EmailTaken, TooManyAttempts, ServiceBusy)

    def __init__(
        self,
        create: CreateAccount,
        throttle: Throttle,
        tokens: SessionTokens,
        uow: UnitOfWork,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._create = create
        self._throttle = throttle
        self._tokens = tokens
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(self, cmd: RegisterCommand, client_ip: str) -> TokenPair:
        reservation = await self._throttle.reserve(
            Limit(
                f"register:ip:{client_ip}",
                self._policy.registrations_per_ip,
                self._policy.registration_window_seconds,
            )
        )
        try:
            user = await self._create(cmd)
            pair = await self._tokens.start(user, self._clock.now())
            await self._uow.commit()
        except (InvalidInput, EmailTaken):
            raise  # answered: it counts
        except BaseException:
            await reservation.cancel()  # a server fault (or a flooded hasher): the client may retry for free
            raise
        return pair
