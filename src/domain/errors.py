"""Errors the domain raises. The HTTP layer maps each to a status and machine code in one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ScribeError(Exception):
    """Base of every failure a caller can be told about: a broken domain rule (DomainError) or a use case that
    could not do its job (application.errors.ApplicationError). Drivers map each kind to an answer."""


class DomainError(ScribeError):
    """Base for every rule the domain enforces."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad input field and what is wrong with it."""

    field: str
    message: str


class InvalidInput(DomainError):
    """One or more fields break a rule; all of them are reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class InvalidField(DomainError):
    """A value object refused its input. `field` is filled in by `check_all`."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def check_all(checks: dict[str, Callable[[], object]]) -> dict[str, Any]:
    """Run every check, collect every refusal, raise them together as InvalidInput; else return what each check
    returned by field (the parsed values), so nothing is parsed twice."""
    problems = []
    parsed: dict[str, Any] = {}
    for field, check in checks.items():
        try:
            parsed[field] = check()
        except InvalidField as error:
            problems.append(Problem(error.field or field, error.message))
    if problems:
        raise InvalidInput(problems)
    return parsed


class InvalidAnswer(DomainError):
    """A provider's answer broke the output contract; the message is what we tell the model when re-asking."""
