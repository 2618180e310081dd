"""`/api/v1/history` over HTTP on both stacks: filters, the signed cursor, reading and deleting, and privacy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from application.ports import UnitOfWork
from application.processing.ports import HistoryRepository
from domain.history import HistoryEntry
from domain.usage import AttemptRecord, Attribution, OutputAttribution, Payer, Spend
from tests.e2e.conftest import Api, bearer

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _entry(user_id: str, **fields: Any) -> HistoryEntry:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "user_id": uuid.UUID(user_id),
        "transcript_hash": "h" * 64,
        "purpose": "general",
        "outputs": "summary topics",
        "summary": "A talk about rivers.",
        "topics": "rivers",
        "key_topics": None,
        "mind_map": None,
        "social_post": None,
        "custom_prompt": None,
        "custom_output": None,
        "video_id": "dQw4w9WgXcQ",
        "video_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "title": "Rivers",
        "language": "en",
        "provider": "anthropic",
        "model": "claude-x",
        "spend": Spend(100, 50, 0.0012),
        "attribution": None,
        "duration_ms": 1200,
        "cached": False,
        "created_at": START,
    }
    return HistoryEntry(**{**values, **fields})


def _seed(api: Api, *entries: HistoryEntry) -> None:
    """Writes entries through the app's own history repository, as processing does."""

    async def write() -> None:
        async with api.client.app.state.dishka_container() as scope:
            history = await scope.get(HistoryRepository)
            for entry in entries:
                await history.add(entry)
            await (await scope.get(UnitOfWork)).commit()

    api.client.blocking_portal.call(write)


def _user(api: Api) -> tuple[str, dict[str, str]]:
    tokens = api.register()
    return tokens["user"]["id"], bearer(tokens["access_token"])


def _ids(api: Api, headers: dict[str, str], query: str = "") -> list[str]:
    response = api.client.get(f"/api/v1/history?limit=100{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]["items"]]


def test_history_lists_my_entries_newest_first_as_summaries(api: Api) -> None:
    me, headers = _user(api)
    old = _entry(me, created_at=START, summary="x" * 500)
    new = _entry(me, created_at=START + timedelta(hours=1))
    _seed(api, old, new, _entry(_user(api)[0]))

    items = api.client.get("/api/v1/history", headers=headers).json()["data"]["items"]
    assert [i["id"] for i in items] == [str(new.id), str(old.id)]
    assert items[1]["summary_excerpt"] == "x" * 200 + "…"
    assert items[0]["summary_excerpt"] == "A talk about rivers."
    assert items[0]["video"] == {"id": "dQw4w9WgXcQ", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}
    assert items[0]["tokens"] == {"input": 100, "output": 50, "total": 150}
    assert items[0]["cost_usd"] == 0.0012
    assert "summary" not in items[0]


def test_each_filter_and_their_combination(api: Api) -> None:
    me, headers = _user(api)
    base = _entry(me)
    others = {
        "purpose": _entry(me, purpose="learning"),
        "language": _entry(me, language="pl"),
        "provider": _entry(me, provider="openai"),
        "model": _entry(me, model="gpt-y"),
        "video_id": _entry(me, video_id="aaaaaaaaaaa"),
        "cached": _entry(me, cached=True),
        "date": _entry(me, created_at=START + timedelta(days=3)),
    }
    _seed(api, base, *others.values())
    every = {str(base.id), *(str(e.id) for e in others.values())}

    assert set(_ids(api, headers)) == every
    assert _ids(api, headers, "&purpose=learning") == [str(others["purpose"].id)]
    assert _ids(api, headers, "&language=pl") == [str(others["language"].id)]
    assert _ids(api, headers, "&provider=openai") == [str(others["provider"].id)]
    assert _ids(api, headers, "&model=gpt-y") == [str(others["model"].id)]
    assert _ids(api, headers, "&video_id=aaaaaaaaaaa") == [str(others["video_id"].id)]
    assert _ids(api, headers, "&cached=true") == [str(others["cached"].id)]
    assert str(others["cached"].id) not in _ids(api, headers, "&cached=false")
    assert _ids(api, headers, "&from=2026-11-04") == [str(others["date"].id)]
    assert str(others["date"].id) not in _ids(api, headers, "&to=2026-11-03")
    assert _ids(api, headers, "&from=2026-11-04&to=2026-11-04") == [str(others["date"].id)]
    assert _ids(api, headers, "&from=2026-11-04T12:00:00Z&to=2026-11-04T12:00:00%2B00:00") == [str(others["date"].id)]
    assert set(_ids(api, headers, "&purpose=general&language=en&to=2026-11-01")) == every - {
        str(others["purpose"].id),
        str(others["language"].id),
        str(others["date"].id),
    }
    assert _ids(api, headers, "&purpose=learning&language=pl") == []


def test_bad_dates_a_reversed_range_control_characters_and_a_limit_out_of_range_are_400_with_details(api: Api) -> None:
    _, headers = _user(api)
    for query, field in [
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-11-05&to=2026-11-04", "from"),
        ("to=9999-12-31", "to"),
        ("from=0001-01-01T00:00:00%2B14:00", "from"),
        ("purpose=%00", "purpose"),
        ("model=a%0Ab", "model"),
    ]:
        response = api.client.get(f"/api/v1/history?{query}", headers=headers)
        assert response.status_code == 400, query
        assert field in [d["field"] for d in response.json()["details"]], query
    for limit in (0, 101):
        assert api.client.get(f"/api/v1/history?limit={limit}", headers=headers).status_code == 400


def test_a_tampered_foreign_or_refiltered_cursor_is_400(api: Api) -> None:
    me, headers = _user(api)
    _seed(api, *(_entry(me, created_at=START + timedelta(minutes=n)) for n in range(3)))
    cursor = api.client.get("/api/v1/history?limit=1", headers=headers).json()["data"]["next_cursor"]
    assert api.client.get(f"/api/v1/history?limit=1&cursor={cursor}", headers=headers).status_code == 200

    payload, _, mac = cursor.rpartition(".")
    _, other_headers = _user(api)
    refusals = {
        "tampered": (f"{payload[:-2]}AA.{mac}", headers, ""),
        "unsigned": (payload, headers, ""),
        "another user's": (cursor, other_headers, ""),
        "other filters": (cursor, headers, "&language=en"),
    }
    for name, (bad, who, query) in refusals.items():
        response = api.client.get(f"/api/v1/history?limit=1&cursor={bad}{query}", headers=who)
        assert response.status_code == 400, name
        assert response.json()["code"] == "invalid_cursor", name


@hypothesis_settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    existing=st.integers(min_value=0, max_value=12),
    page_size=st.integers(min_value=1, max_value=5),
    inserts=st.lists(st.integers(min_value=0, max_value=3), max_size=6),
    same_moment=st.booleans(),
)
def test_walking_pages_while_entries_arrive_returns_every_earlier_entry_once(
    api: Api, existing: int, page_size: int, inserts: list[int], same_moment: bool
) -> None:
    me, headers = _user(api)
    # Several entries may share a timestamp: the id breaks the tie.
    moments = [START + timedelta(seconds=0 if same_moment else n) for n in range(existing)]
    before = [_entry(me, created_at=moment) for moment in moments]
    _seed(api, *before)

    seen: list[str] = []
    cursor = ""
    for step in range(100):
        arriving = inserts[step] if step < len(inserts) else 0
        _seed(api, *(_entry(me, created_at=datetime.now(UTC)) for _ in range(arriving)))
        page = api.client.get(f"/api/v1/history?limit={page_size}{cursor}", headers=headers).json()["data"]
        seen += [item["id"] for item in page["items"] if item["id"] in {str(e.id) for e in before}]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert sorted(seen) == sorted(str(e.id) for e in before)


def test_one_entry_in_full_with_mind_map_topics_and_attribution(api: Api) -> None:
    me, headers = _user(api)
    served = AttemptRecord("openai", "gpt-y", Payer.USER_KEY, "served", 1, Spend(10, 5, 0.001))
    entry = _entry(
        me,
        key_topics=[{"title": "Źródło rzeki", "timestamp": 12.5}],
        mind_map={"label": "Rzeki", "children": [{"label": "Źródło", "children": []}]},
        attribution=Attribution((OutputAttribution("summary", "openai", "gpt-y", Payer.USER_KEY, (served,)),)),
    )
    _seed(api, entry)

    response = api.client.get(f"/api/v1/history/{entry.id}", headers=headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["summary"] == "A talk about rivers."
    assert data["outputs"] == ["summary", "topics"]
    assert data["key_topics"] == [{"title": "Źródło rzeki", "timestamp": 12.5}]
    assert data["mind_map"]["children"][0]["label"] == "Źródło"
    assert data["attribution"]["summary"]["payer"] == "user_key"
    assert data["attribution"]["summary"]["attempts"][0]["provider"] == "openai"


def test_deleting_one_entry_and_then_all_of_mine_leaves_others_alone(api: Api) -> None:
    me, headers = _user(api)
    other, other_headers = _user(api)
    mine = [_entry(me) for _ in range(3)]
    theirs = _entry(other)
    _seed(api, *mine, theirs)

    assert api.client.delete(f"/api/v1/history/{mine[0].id}", headers=headers).status_code == 204
    assert api.client.get(f"/api/v1/history/{mine[0].id}", headers=headers).status_code == 404
    assert api.client.delete(f"/api/v1/history/{mine[0].id}", headers=headers).status_code == 404
    assert set(_ids(api, headers)) == {str(mine[1].id), str(mine[2].id)}

    unconfirmed = api.client.delete("/api/v1/history", headers=headers)
    assert unconfirmed.status_code == 400
    assert [d["field"] for d in unconfirmed.json()["details"]] == ["confirm"]
    assert len(_ids(api, headers)) == 2

    assert api.client.delete("/api/v1/history?confirm=true", headers=headers).status_code == 204
    assert _ids(api, headers) == []
    assert _ids(api, other_headers) == [str(theirs.id)]


def test_another_users_entry_is_404_on_every_route(api: Api) -> None:
    owner, owner_headers = _user(api)
    _, intruder = _user(api)
    entry = _entry(owner)
    _seed(api, entry)

    assert api.client.get(f"/api/v1/history/{entry.id}", headers=intruder).status_code == 404
    assert api.client.delete(f"/api/v1/history/{entry.id}", headers=intruder).status_code == 404
    assert api.client.delete("/api/v1/history?confirm=true", headers=intruder).status_code == 204
    assert _ids(api, intruder) == []
    assert api.client.get(f"/api/v1/history/{entry.id}", headers=owner_headers).status_code == 200


def test_history_needs_a_signed_in_caller(api: Api) -> None:
    assert api.client.get("/api/v1/history").status_code == 401
    assert api.client.delete("/api/v1/history?confirm=true").status_code == 401


def _search(api: Api, headers: dict[str, str], q: str) -> list[dict[str, Any]]:
    response = api.client.get("/api/v1/history", params={"q": q, "limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]["items"]
    return items


def test_full_text_finds_polish_words_with_or_without_diacritics_both_ways(api: Api) -> None:
    me, headers = _user(api)
    accented = _entry(me, title="Źródło Wisły", summary="Rzeka płynie przez Kraków i Łódź nie leży nad nią.")
    plain = _entry(me, title="Notatki", summary="Zrodlo tekstu bez polskich znakow, zolw i zaba.")
    unrelated = _entry(me, title="Góry", summary="Tatry są wysokie.")
    _seed(api, accented, plain, unrelated)

    def found(q: str) -> set[str]:
        return {item["id"] for item in _search(api, headers, q)}

    both = {str(accented.id), str(plain.id)}
    assert found("zrodlo") == both
    assert found("źródło") == both
    assert found("ŹRÓDŁO") == both
    assert found("lodz") == {str(accented.id)}
    assert found("żółw") == {str(plain.id)}
    assert found("krak") == {str(accented.id)}  # a word's beginning finds it
    assert found("wisly rzeka") == {str(accented.id)}  # every word must match
    assert found("wisly tatry") == set()


def test_full_text_in_english_over_every_searched_output(api: Api) -> None:
    me, headers = _user(api)
    in_title = _entry(me, title="Café culture in Paris", summary="Nothing else.")
    in_topics = _entry(me, title="T", summary="S", topics="- Naïve bayes classifiers")
    in_post = _entry(me, title="T", summary="S", social_post="Loved this talk on résumé writing #career")
    in_custom = _entry(me, title="T", summary="S", custom_prompt="cafe?", custom_output="A quiz about coffee")
    _seed(api, in_title, in_topics, in_post, in_custom)

    assert [i["id"] for i in _search(api, headers, "cafe")] == [str(in_title.id)]  # not the custom prompt
    assert [i["id"] for i in _search(api, headers, "naive")] == [str(in_topics.id)]
    assert [i["id"] for i in _search(api, headers, "resume")] == [str(in_post.id)]
    assert [i["id"] for i in _search(api, headers, "quiz")] == [str(in_custom.id)]
    snippet = _search(api, headers, "naive")[0]["snippet"]
    assert snippet["field"] == "topics"
    start, end = snippet["highlights"][0]
    assert snippet["text"][start:end] == "Naïve"


def test_search_puts_the_better_match_first_and_highlights_it_in_the_original_text(api: Api) -> None:
    me, headers = _user(api)
    once = _entry(me, title="Prelekcja", summary="Mówimy o źródłach energii.", created_at=START + timedelta(days=1))
    often = _entry(me, title="Źródła", summary="Źródła, źródła i jeszcze raz źródła.", created_at=START)
    _seed(api, once, often)

    items = _search(api, headers, "zrodla")
    assert [i["id"] for i in items] == [str(often.id), str(once.id)]
    snippet = items[1]["snippet"]
    assert snippet["field"] == "summary"
    assert [snippet["text"][s:e] for s, e in snippet["highlights"]] == ["źródłach"]
    assert "snippet" not in api.client.get("/api/v1/history", headers=headers).json()["data"]["items"][0]


def test_search_pages_by_relevance_with_its_own_cursor(api: Api) -> None:
    me, headers = _user(api)
    entries = [
        _entry(me, summary="rzeka " * (n % 3 + 1), created_at=START + timedelta(minutes=n % 2)) for n in range(7)
    ]
    _seed(api, *entries, _entry(me, summary="nic"))
    seen: list[str] = []
    url = "/api/v1/history?q=rzeka&limit=2"
    while url:
        page = api.client.get(url, headers=headers).json()["data"]
        seen += [item["id"] for item in page["items"]]
        url = f"/api/v1/history?q=rzeka&limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert sorted(seen) == sorted(str(e.id) for e in entries)
    assert seen == [item["id"] for item in _search(api, headers, "rzeka")]

    cursor = api.client.get("/api/v1/history?q=rzeka&limit=2", headers=headers).json()["data"]["next_cursor"]
    response = api.client.get(f"/api/v1/history?q=rzek&limit=2&cursor={cursor}", headers=headers)
    assert response.json()["code"] == "invalid_cursor"


def test_a_query_without_words_or_too_long_is_400(api: Api) -> None:
    _, headers = _user(api)
    for q in ("!!! ---", "x" * 201):
        response = api.client.get("/api/v1/history", params={"q": q}, headers=headers)
        assert response.status_code == 400, q
        assert [d["field"] for d in response.json()["details"]] == ["q"], q


def test_deleted_entries_are_no_longer_found(api: Api) -> None:
    me, headers = _user(api)
    entry = _entry(me, summary="Unikalne słowo: kosodrzewina")
    _seed(api, entry)
    assert len(_search(api, headers, "kosodrzewina")) == 1
    api.client.delete(f"/api/v1/history/{entry.id}", headers=headers)
    assert _search(api, headers, "kosodrzewina") == []
