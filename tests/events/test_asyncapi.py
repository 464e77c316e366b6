"""The event stream's AsyncAPI document: valid for the official parser, complete, served as it is built."""

import copy
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from market.events.asyncapi import asyncapi_document, event_type_topic
from market.events.catalogue import EVENT_TYPES
from market.events.models import OutboxEvent
from market.events.relay import cloudevent_message
from market.events.schemas import stored_snapshots
from tests.events.test_relay import _scenario

VALIDATOR = Path(__file__).parent / "asyncapi"


def _payload_retyped(document: dict[str, Any]) -> None:
    document["components"]["messages"]["market.bid.placed.v1"]["payload"]["properties"]["amount"] = {
        "type": "decimal"
    }


def _operation_with_a_foreign_message(document: dict[str, Any]) -> None:
    document["operations"]["receive_patents"]["messages"].append(
        {"$ref": "#/channels/trading/messages/market.bid.placed.v1"}
    )


def _dangling_reference(document: dict[str, Any]) -> None:
    document["channels"]["patents"]["messages"]["market.patent.published.v1"]["$ref"] += "x"


#: a broken copy of the document -> the finding the parser must report
BREAKINGS: dict[Callable[[dict[str, Any]], None], str] = {
    _payload_retyped: "asyncapi-document-resolved",
    _operation_with_a_foreign_message: "asyncapi3-operation-messages-from-referred-channel",
    _dangling_reference: "invalid-ref",
}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    """The official parser's errors and warnings on the generated document and on each broken copy, from one
    run (building the parser costs more than parsing a document)."""
    if not (VALIDATOR / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail(f"the AsyncAPI parser is not installed in {VALIDATOR}: run scripts/bootstrap.sh")
    folder = tmp_path_factory.mktemp("asyncapi")
    documents = {"generated": asyncapi_document()}
    for breaking in BREAKINGS:
        documents[breaking.__name__] = copy.deepcopy(asyncapi_document())
        breaking(documents[breaking.__name__])
    for name, document in documents.items():
        (folder / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")
    run = subprocess.run(
        ["node", "validate.mjs", *(str(folder / f"{name}.json") for name in documents)],
        cwd=VALIDATOR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert not run.stderr, run.stderr
    assert run.returncode == 1  # the broken copies
    found: dict[str, list[dict[str, str]]] = {name: [] for name in documents}
    for finding in map(json.loads, run.stdout.splitlines()):
        if finding["severity"] in ("error", "warning"):
            found[Path(finding["file"]).stem].append(finding)
    return found


def test_the_document_is_valid_for_the_official_parser(findings):
    assert findings["generated"] == []


@pytest.mark.parametrize("breaking", BREAKINGS, ids=lambda breaking: breaking.__name__)
def test_the_parser_rejects_a_broken_document(findings, breaking):
    """The validator is worth its run: it checks payload schemas, the specification's rules and references."""
    assert BREAKINGS[breaking] in {finding["code"] for finding in findings[breaking.__name__]}


def _resolve(document: dict[str, Any], reference: dict[str, str]) -> Any:
    node: Any = document
    for part in reference["$ref"].removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_event_type_is_a_message_of_its_topics_channel_with_its_latest_schema():
    document = asyncapi_document()
    channels = {channel["address"]: channel for channel in document["channels"].values()}
    received = {
        message["$ref"] for operation in document["operations"].values() for message in operation["messages"]
    }
    listed = {name for channel in channels.values() for name in channel["messages"]}
    assert listed == set(EVENT_TYPES)
    for event_type in EVENT_TYPES:
        channel = channels[event_type_topic(event_type)]
        message = _resolve(document, channel["messages"][event_type])
        assert message["name"] == event_type
        assert message["payload"] == stored_snapshots(event_type)[-1]
        assert message["headers"]["allOf"][1]["properties"]["ce_type"] == {"const": event_type}
        channel_id = next(key for key, value in document["channels"].items() if value is channel)
        assert f"#/channels/{channel_id}/messages/{event_type}" in received
    assert all(operation["action"] == "receive" for operation in document["operations"].values())


@pytest.mark.django_db
def test_the_headers_are_those_the_relay_writes(cast, api):
    """Every header of a relayed record is declared and every declared one is there; keys and topics match."""
    _scenario(cast, api)
    schemas = asyncapi_document()["components"]["schemas"]
    headers = schemas["CloudEventHeaders"]
    for row in OutboxEvent.objects.values_list("id", "type", "topic", "key", "source", "data", "created_at"):
        topic, key, _, record_headers = cloudevent_message(row)
        names = {name for name, _ in record_headers}
        assert names == set(headers["properties"]) == set(headers["required"])
        assert topic == event_type_topic(row[1])
        assert re.fullmatch(schemas["AggregateKey"]["pattern"], key.decode())


def test_the_document_is_served_publicly_in_json_and_yaml(client):
    as_json = client.get("/api/asyncapi.json")
    assert as_json.status_code == 200
    assert as_json["Content-Type"].startswith("application/json")
    assert "public" in as_json["Cache-Control"]
    assert as_json.json() == asyncapi_document()
    assert client.get("/api/asyncapi.json", headers={"if-none-match": as_json["ETag"]}).status_code == 304

    as_yaml = client.get("/api/asyncapi.yaml")
    assert as_yaml.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.content) == asyncapi_document()
    assert client.post("/api/asyncapi.json").json()["error"]["code"] == "method_not_allowed"


def test_the_command_writes_the_document(tmp_path):
    target = tmp_path / "asyncapi.yaml"
    call_command("asyncapi", "--format", "yaml", "--output", str(target))
    assert yaml.safe_load(target.read_text(encoding="utf-8")) == asyncapi_document()
