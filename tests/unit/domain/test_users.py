"""Email and password rules, with hypothesis for the validators."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidField
from domain.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, check_new_password, common_passwords
from domain.users import Email, display_name, language_code

local_parts = st.text(alphabet=string.ascii_letters + string.digits + "._%+-", min_size=1, max_size=64).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
tlds = st.from_regex(r"[a-z]{2,10}", fullmatch=True)


@given(local=local_parts, domain=st.lists(labels, min_size=1, max_size=3), tld=tlds)
def test_well_formed_addresses_are_accepted_and_normalised(local: str, domain: list[str], tld: str) -> None:
    raw = f"  {local}@{'.'.join(domain)}.{tld.upper()} "
    assert Email.parse(raw).value == raw.strip().lower()


@given(st.text(max_size=300))
def test_anything_accepted_has_one_at_and_a_dotted_domain(raw: str) -> None:
    try:
        email = Email.parse(raw)
    except InvalidField:
        return
    local, _, domain = email.value.partition("@")
    assert "@" not in domain
    assert "." in domain
    assert 1 <= len(local) <= 64
    assert len(email.value) <= 254
    assert email.value == email.value.strip().lower()
    assert not any(ch.isspace() for ch in email.value)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@b",
        "a@@b.com",
        "a b@example.com",
        "a@example.c",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@example..com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_malformed_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidField):
        Email.parse(raw)


@given(st.text(min_size=MIN_PASSWORD_LENGTH, max_size=MAX_PASSWORD_LENGTH).filter(lambda s: len(set(s)) > 6))
def test_long_varied_passwords_pass_unless_listed(password: str) -> None:
    try:
        check_new_password(password)
    except InvalidField as error:
        assert "common" in error.message or "predictable" in error.message  # noqa: PT017


@given(st.text(max_size=MIN_PASSWORD_LENGTH - 1))
def test_short_passwords_are_always_refused(password: str) -> None:
    with pytest.raises(InvalidField, match="at least"):
        check_new_password(password)


@given(st.text(min_size=MAX_PASSWORD_LENGTH + 1, max_size=MAX_PASSWORD_LENGTH + 50))
def test_overlong_passwords_are_always_refused(password: str) -> None:
    with pytest.raises(InvalidField, match="at most"):
        check_new_password(password)


@pytest.mark.parametrize(
    "password",
    [
        "password1234",
        "qwertyuiop123",
        "iloveyou2024!",
        "passwordpassword",
        "aaaaaaaaaaaaaa",
        "abcdefghijklmn",
        "12345678901234",
        "1qaz2wsx3edc",
    ],
)
def test_common_and_predictable_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidField):
        check_new_password(password)


def test_the_shipped_blocklist_is_loaded() -> None:
    assert len(common_passwords()) > 20_000
    assert "password" in common_passwords()


def test_no_composition_rules_a_long_lowercase_phrase_is_fine() -> None:
    check_new_password("violet kettle umbrella")


def test_passwords_built_on_the_account_name_are_refused() -> None:
    with pytest.raises(InvalidField, match="e-mail"):
        check_new_password("marguerite2024", ("marguerite", "example", "scribe"))


@pytest.mark.parametrize(("raw", "code"), [("pl", "pl"), (" EN ", "en"), ("de", "de")])
def test_language_codes_are_two_letters(raw: str, code: str) -> None:
    assert language_code(raw) == code


@pytest.mark.parametrize("raw", ["", "pol", "p1", "english"])
def test_other_language_codes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidField):
        language_code(raw)


def test_display_names_are_trimmed_and_bounded() -> None:
    assert display_name("  Ada \t Lovelace ") == "Ada Lovelace"
    with pytest.raises(InvalidField):
        display_name("x" * 101)
    with pytest.raises(InvalidField):
        display_name("bad\x00name")
