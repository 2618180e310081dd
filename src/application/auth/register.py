from __future__ import annotations

from dataclasses import dataclass

from application.auth.tokens import SessionTokens, TokenPair
from application.ports import Clock, PasswordHasher, UnitOfWork, UserRepository
from domain.errors import check_all
from domain.passwords import check_new_password, context_words
from domain.users import Email, Role, User, display_name, language_code


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
        check_all(
            {
                "email": lambda: Email.parse(cmd.email),
                "password": lambda: check_new_password(cmd.password, context_words(cmd.email)),
                "display_name": lambda: cmd.display_name is None or display_name(cmd.display_name),
                "preferred_language": lambda: cmd.preferred_language is None or language_code(cmd.preferred_language),
            }
        )
        user = User.register(
            Email.parse(cmd.email),
            await self._hasher.hash(cmd.password),
            now=self._clock.now(),
            display_name=display_name(cmd.display_name) if cmd.display_name is not None else None,
            preferred_language=language_code(cmd.preferred_language or "pl"),
            role=cmd.role,
        )
        await self._users.add(user)  # EmailTaken on a duplicate, decided by the unique index
        return user


class RegisterUser:
    def __init__(self, create: CreateAccount, tokens: SessionTokens, uow: UnitOfWork, clock: Clock) -> None:
        self._create = create
        self._tokens = tokens
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: RegisterCommand) -> TokenPair:
        user = await self._create(cmd)
        pair = await self._tokens.start(user, self._clock.now())
        await self._uow.commit()
        return pair
