from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.errors import InvalidCursor
from application.pagination import MAX_PAGE_SIZE, Cursor, PageRequest
from domain.errors import InvalidInput

aware_datetimes = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC))


@given(created_at=aware_datetimes, ident=st.uuids())
def test_cursors_round_trip(created_at: datetime, ident: uuid.UUID) -> None:
    cursor = Cursor(created_at, ident)
    assert Cursor.decode(cursor.encode()) == cursor


@given(st.text(max_size=200))
def test_garbage_cursors_are_refused_cleanly(text: str) -> None:
    try:
        cursor = Cursor.decode(text)
    except InvalidCursor:
        return
    assert cursor.created_at.tzinfo is not None  # anything accepted is a real cursor


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1])
def test_page_size_is_bounded(limit: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        PageRequest.of(limit, None)
    assert caught.value.problems[0].field == "limit"


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-01-01T00:00:00"])
def test_cursors_with_unusable_times_are_refused(moment: str) -> None:
    text = base64.urlsafe_b64encode(json.dumps([moment, str(uuid.uuid4())]).encode()).decode()
    with pytest.raises(InvalidCursor):
        Cursor.decode(text)
