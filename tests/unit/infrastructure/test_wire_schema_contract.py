"""The schema we send is the schema we check: for every output kind and the chunk notes, in both directions.

(a) Every answer our decoder accepts (so every answer the checker accepts) is valid under the wire schema, checked
    by a real JSON-Schema validator; (b) every answer the wire schema allows decodes, and the checker refuses it only
    on the semantic limits (word counts, lengths, tree rules), never on shape. And each wire schema sits in the
    subset that strict structured outputs compile, as OpenAI and Anthropic document it."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.processing.prompts import answer_envelope
from domain.errors import InvalidAnswer
from domain.outputs import ANSWER_TYPES, AnswerContext, answer_schema, check_answer
from infrastructure.ai.schema import strict_schema
from tests.fakes.llm_answers import KINDS, default_answer
from tests.fakes.wire_schema import answer_problem, instances, strict_schema_problem

CONTEXT = AnswerContext(source_words=2500, source_chars=15000, duration=900.0)
SHAPE_COMPLAINT = "not valid JSON for the required schema"


def wire(kind: str) -> dict[str, Any]:
    return strict_schema(answer_schema(kind))


def test_every_kind_is_covered() -> None:
    assert set(ANSWER_TYPES) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_the_wire_schema_is_in_the_strict_subset(kind: str) -> None:
    assert strict_schema_problem(wire(kind)) is None


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_of_our_answer_types_is_on_the_wire(kind: str) -> None:
    """Names inside `properties` are data: a field called `title` must survive the conversion."""

    def property_names(schema: Any) -> set[str]:
        if isinstance(schema, dict):
            own = set(schema.get("properties", {}))
            return own | {name for value in schema.values() for name in property_names(value)}
        if isinstance(schema, list):
            return {name for item in schema for name in property_names(item)}
        return set()

    fields = {name for struct in _structs(ANSWER_TYPES[kind]) for name in struct.__struct_fields__}
    assert property_names(wire(kind)) == fields


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", ["en", "pl"])
def test_answers_the_checker_accepts_are_valid_on_the_wire(kind: str, language: str) -> None:
    answer = default_answer(kind, f"language code: {language} [00:10] a [05:00] b [10:00] c")
    check_answer(kind, msgspec.json.encode(answer), CONTEXT)  # accepted…
    assert answer_problem(wire(kind), answer) is None  # …and a strict provider could have sent it


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whatever_our_decoder_accepts_the_wire_schema_allows(kind: str, data: st.DataObject) -> None:
    decoded = data.draw(st.from_type(ANSWER_TYPES[kind]))
    on_the_wire = msgspec.json.decode(msgspec.json.encode(decoded))
    assert answer_problem(wire(kind), on_the_wire) is None


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_whatever_the_wire_schema_allows_fails_only_on_meaning(kind: str, data: st.DataObject) -> None:
    answer = data.draw(instances(wire(kind)))
    msgspec.convert(answer, ANSWER_TYPES[kind])  # the shape always decodes
    problem = ""
    try:
        check_answer(kind, msgspec.json.encode(answer), CONTEXT)
    except InvalidAnswer as refused:
        problem = str(refused)
    assert SHAPE_COMPLAINT not in problem


def _structs(struct: type[msgspec.Struct]) -> list[type[msgspec.Struct]]:
    """The struct and every struct its fields hold (lists and optionals included)."""
    found = [struct]
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)

    def walk(kind: msgspec.inspect.Type) -> None:
        if isinstance(kind, msgspec.inspect.StructType):
            found.extend(_structs(kind.cls))
        elif isinstance(kind, msgspec.inspect.ListType):
            walk(kind.item_type)
        elif isinstance(kind, msgspec.inspect.UnionType):
            for member in kind.types:
                walk(member)

    for field in info.fields:
        walk(field.type)
    return found


REQUEST_SETS = [("summary",), ("summary", "topics", "mind_map"), ("summary", "topics", "social_post", "custom")]


@pytest.mark.parametrize("kinds", REQUEST_SETS)
def test_the_answer_holding_every_output_of_a_request_is_in_the_strict_subset(kinds: tuple[str, ...]) -> None:
    assert strict_schema_problem(strict_schema(answer_envelope(kinds))) is None


@pytest.mark.parametrize("kinds", REQUEST_SETS)
def test_each_output_has_its_own_place_in_the_answer_and_may_be_left_out_of_a_re_ask(kinds: tuple[str, ...]) -> None:
    envelope = strict_schema(answer_envelope(kinds))
    answers = {kind: default_answer(kind, "language code: en [00:10] a [05:00] b") for kind in kinds}
    assert answer_problem(envelope, answers) is None
    assert answer_problem(envelope, {kind: answers[kind] for kind in kinds[:-1]}) is not None  # all are required
    left_out = {**answers, kinds[0]: None}
    assert (answer_problem(envelope, left_out) is None) == (len(kinds) > 1)  # null only beside other outputs
    for kind in kinds:  # each part is exactly the output's own wire schema
        assert answer_problem(wire(kind), answers[kind]) is None
