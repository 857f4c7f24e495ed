"""The pure rules of trace events: ids, times, usage, nested keys, the tree's limits."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from conftest import make_tenant
from roost.domain.errors import InvalidInput
from roost.domain.traces import (
    SPAN_NAMESPACE,
    TraceEvent,
    _uuid5,
    external_id,
    new_id,
    parse_event_type,
    parse_uuid,
    resolve_times,
    span_event_id,
    unflatten,
    unflatten_value,
    usage_of,
)
from roost.services.trace_queries import MAX_TREE_DEPTH
from roost.storage.store import Store
from tracing import post_event, session_tree, start_session


def test_uuids_are_read_in_any_spelling_and_stored_lower_case() -> None:
    value = uuid.uuid4()
    assert parse_uuid(str(value).upper()) == str(value)
    assert parse_uuid(value.hex) == str(value)
    assert parse_uuid("not-a-uuid") is None
    assert parse_uuid(42) is None


def test_derived_ids_are_stable_uuids() -> None:
    assert _uuid5("x") == str(uuid.uuid5(SPAN_NAMESPACE, "x"))
    assert external_id("conversation-7") == external_id("conversation-7")
    assert external_id(str(uuid.UUID(int=5))) == str(uuid.UUID(int=5))
    trace = "ab" * 16
    first, second = span_event_id(trace, "01" * 8), span_event_id(trace, "02" * 8)
    assert first != second
    assert first[:18] == second[:18]  # one trace, one prefix: neighbours in the index
    assert uuid.UUID(first).version == 5
    assert uuid.UUID(new_id()).version == 7


def test_event_types_are_case_insensitive_and_closed() -> None:
    assert parse_event_type("Model") == "model"
    with pytest.raises(InvalidInput, match="event_type"):
        parse_event_type("agent")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((1000.0, None, 20.0), (1000.0, 1020.0, 20.0)),
        ((1000.0, 1050.0, None), (1000.0, 1050.0, 50.0)),
        ((None, 1050.0, 50.0), (1000.0, 1050.0, 50.0)),
        ((None, None, None), (7.0, 7.0, 0.0)),
        ((1000.0, 900.0, None), (1000.0, 900.0, 0.0)),
    ],
)
def test_missing_times_are_derived_from_the_others(given: tuple, expected: tuple) -> None:
    assert resolve_times(*given, now=7.0) == expected


def event(**metadata: object) -> TraceEvent:
    return TraceEvent("e", "s", "s", "model", "m", "x", 0.0, 0.0, 0.0, metadata=dict(metadata))


def test_usage_is_read_from_metadata_under_several_names() -> None:
    assert usage_of(event(prompt_tokens=3, completion_tokens="4")).total_tokens == 7
    assert usage_of(event(input_tokens=3, output_tokens=4, total_tokens=10)).total_tokens == 10
    assert usage_of(event(usage={"prompt_tokens": 1}, cost="0.5")).cost == 0.5
    nothing = usage_of(event(total_tokens="many", cost=-1))
    assert (nothing.total_tokens, nothing.cost) == (None, None)


def test_dotted_keys_unflatten_into_objects_and_lists() -> None:
    assert unflatten([("a", 1), ("b", 2)]) == {"a": 1, "b": 2}
    assert unflatten([("result.0.role", "a"), ("result.1.role", "b")]) == {
        "result": [{"role": "a"}, {"role": "b"}]
    }
    assert unflatten([("x.1", 1), ("x.3", 3)]) == {"x": {"1": 1, "3": 3}}
    # A value is never written into: the clash keeps both.
    assert unflatten([("a", 1), ("a.b", 2)]) == {"a": 1, "a.b": 2}
    assert unflatten([("a.b", 2), ("a", 1)]) == {"a": {"b": 2, "": 1}}
    assert unflatten([("a", {"k": 1}), ("a.z", 2)]) == {"a": {"k": 1}, "a.z": 2}
    assert unflatten_value([("0.content", "hi"), ("1.content", "yo")]) == [
        {"content": "hi"},
        {"content": "yo"},
    ]


def test_a_tree_deeper_than_the_limit_hangs_the_rest_from_the_last_level(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant)["session_id"]
    parent = session_id
    for level in range(MAX_TREE_DEPTH + 5):
        parent = post_event(
            client,
            tenant,
            event_type="chain",
            session_id=session_id,
            parent_id=parent,
            inputs={},
            start_time=1000.0 + level,
        )
    node = session_tree(client, tenant, session_id)
    depth = 0
    while node["children"]:
        if len(node["children"]) > 1:
            break
        node = node["children"][0]
        depth += 1
    assert depth == MAX_TREE_DEPTH - 1
    assert len(node["children"]) == 6  # the deeper events, side by side


def test_events_whose_parents_form_a_cycle_still_show(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant)["session_id"]
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for own, parent in ((first, second), (second, first)):
        post_event(
            client,
            tenant,
            event_type="tool",
            event_id=own,
            session_id=session_id,
            parent_id=parent,
            inputs={},
        )
    tree = session_tree(client, tenant, session_id)
    (top,) = tree["children"]
    (below,) = top["children"]
    assert {top["event_id"], below["event_id"]} == {first, second}
