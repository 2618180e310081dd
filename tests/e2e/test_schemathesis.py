"""Every operation in the OpenAPI document, with examples generated from it (schemathesis): no answer is a
5xx, and every answer is one the document describes (status, content type, headers, body schema).
Bounded (a few examples per operation), on the embedded stack and on PostgreSQL + Redis, as an administrator's
API token."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from application.accounts.admin import AccountChanges, ChangeAccount
from domain.users import Role
from infrastructure.bootstrap.settings import Settings
from interfaces.http.app import create_app
from tests.e2e.conftest import Api, bearer, make_client

EXAMPLES = 15  # per operation and mode (valid and invalid input): ~30 s on one core
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def admin_api_token(settings: Settings) -> str:
    """An administrator's read+write API token: it reaches every route, and (unlike a session) no generated
    logout or password change can end it half-way through the run."""
    with make_client(settings) as client:
        api = Api(client)
        tokens = api.register()
        api.use_case(ChangeAccount, tokens["user"]["email"], AccountChanges(role=Role.ADMIN))
        created = client.post(
            "/api/v1/me/tokens", json={"name": "schemathesis"}, headers=bearer(tokens["access_token"])
        )
        token: str = created.json()["data"]["token"]
        return token


def test_every_operation_keeps_its_contract(settings: Settings, admin_api_token: str) -> None:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(settings))
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(mode))
        @examples(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def keeps_its_contract(case: Any) -> None:
            case.call_and_validate(headers=bearer(admin_api_token), checks=CHECKS)

        try:
            keeps_its_contract()
        except Unsatisfiable:
            continue  # nothing in this operation's schema can be made invalid (no parameters, any JSON)
        except Exception as error:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)
