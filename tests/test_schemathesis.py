"""Fuzz the public API from its own ``/openapi.json`` (schemathesis 4, in process over ASGI).

The issue's promise: no input may cause a 5xx, and every 4xx names the field and the rule in a
problem document. schemathesis generates valid and invalid requests from the OpenAPI document the
mock serves, so the same run also checks that the document tells the truth about the answers
(status codes, content types, response bodies, ``Allow`` on 405). The control API (``/_mock``) is
not Askara's surface: it gets its own mock and only the no-5xx and problem-document checks, and
``POST /_mock/faults`` is left out because it injects 5xx on purpose. The files origin (pre-signed
PDF links) is a server of its own in the document; it is fuzzed without the bearer token (S3 refuses a
second auth mechanism), with random and with valid signatures.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import schemathesis
from conftest import make_settings
from hypothesis import HealthCheck, settings
from schemathesis import CheckContext, Response
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from mock_server import create_app
from mock_server.core.tokens import KNOWN_SCOPES
from mock_server.domain.documents import public_document
from mock_server.web.openapi import CONTROL_TAG
from mock_server.web.openapi import build as build_openapi
from mock_server.web.routing import canonical_uuid

# One mock for the module: building the schema per test would cost more than the fuzzing. A bucket
# this large keeps 429 out of the way; rate limiting has its own tests. Import makes no request:
# the document is the one the mock serves, built by the same function /openapi.json answers with
# (test_the_fuzzed_document_is_the_served_one holds the two together), and the resources the tests
# aim at are read in fixtures. (schemathesis's lazy loader, pytest.from_fixture, fails on pytest 9.2,
# and would fold the ~70 operations into four tests that xdist could not spread.)
APP = create_app(make_settings(rate_limit_capacity=1_000_000))


def _load(app: Any, **config: Any) -> schemathesis.BaseSchema:
    """The document ``app`` serves, calls going to ``app`` in process, with an explicit config so a
    stray schemathesis.toml changes nothing."""
    document = json.loads(json.dumps(build_openapi(app.state.mock.settings, app.state.collection_specs)))
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config.from_dict(config))
    schema.app = app
    return schema


# API Platform ignores query parameters no filter declares (and so does the mock): an extra one is not
# negative data, so negative_data_rejection must not expect it refused.
PUBLIC = {"generation": {"allow-extra-parameters": False}}
CTX = APP.state.mock
FILES_PATH = f"/{CTX.settings.files_bucket}/{{document_uuid}}/{{file_name}}"
SCHEMA = _load(APP, **PUBLIC).exclude(tag=CONTROL_TAG).exclude(path=FILES_PATH)
# Without a token every answer is the same 401: the coverage phase's hundreds of boundary cases add nothing.
NO_TOKEN_SCHEMA = _load(APP, phases={"coverage": {"enabled": False}}, **PUBLIC).exclude(tag=CONTROL_TAG)
FILES_SCHEMA = _load(APP).include(path=FILES_PATH)
DOCUMENT = SCHEMA.raw_schema
PROBLEM_TYPES = ("application/problem+json", "application/ld+json")
# Endpoints with an error format of their own: RFC 6749 JSON, HTML pages for the browser, S3-like XML.
OWN_ERROR_FORMATS = ("/oauth2/", "/authorize", "/device", f"/{CTX.settings.files_bucket}/")
SECURED = {
    (path, method.upper())
    for path, item in DOCUMENT["paths"].items()
    for method, op in item.items()
    if isinstance(op, dict) and op.get("security") and CONTROL_TAG not in op.get("tags", [])
}
# Bounded whatever the profile: four tests over ~40 operations, plus schemathesis's coverage phase.
FUZZ = settings(
    max_examples=min(15, settings.default.max_examples), deadline=None, suppress_health_check=list(HealthCheck)
)


def test_the_fuzzed_document_is_the_served_one() -> None:
    # Outside ``with``: no lifespan run on the module's shared mock.
    served = TestClient(APP, base_url=APP.state.mock.settings.base_url).get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == DOCUMENT


def bearer() -> dict[str, str]:
    """A token with every scope for the seeded clinician (the manual clock never expires it)."""
    user = CTX.store.users.values()[0]
    pair = CTX.tokens.issue_pair(CTX.settings.client_id, user["uuid"], list(KNOWN_SCOPES))
    return {"Authorization": f"Bearer {pair['access_token']}"}


TOKEN = bearer()


def _media_type(response: Response) -> str:
    return (response.headers.get("content-type") or [""])[0].split(";")[0].strip().lower()


@schemathesis.check
def problem_document_for_4xx(ctx: CheckContext, response: Response, case: schemathesis.Case) -> bool | None:
    """Every 4xx of the API is a problem document saying what was wrong (the issue's promise).

    Except 401 and 403: league's Symfony bundle answers them in plain text (empty without
    credentials), and the mock's explanation travels in ``X-Askara-Mock-Explanation``.
    """
    if not 400 <= response.status_code < 500 or case.operation.path.startswith(OWN_ERROR_FORMATS):
        return None
    if response.status_code in (401, 403):
        assert _media_type(response) == "text/plain", _media_type(response)
        assert response.headers.get("x-askara-mock-explanation"), response.headers
        return True
    assert _media_type(response) in PROBLEM_TYPES, f"{response.status_code} answered as {_media_type(response)!r}"
    body = response.json()
    missing = [key for key in ("title", "detail", "status") if not body.get(key)]
    assert not missing, f"{response.status_code} problem document lacks {missing}: {body}"
    assert body["status"] == response.status_code, body
    for violation in body.get("violations", []):
        assert violation.get("propertyPath") is not None and violation.get("message"), violation
    return True


@schemathesis.check
def oauth_error_for_4xx(ctx: CheckContext, response: Response, case: schemathesis.Case) -> bool | None:
    """The token and device endpoints answer RFC 6749 section 5.2 errors: JSON with ``error``."""
    if not 400 <= response.status_code < 500 or not case.operation.path.startswith("/oauth2/"):
        return None
    if response.status_code in (405, 413, 415):
        return None  # routing and body-size errors are problem documents, checked by the schema conformance
    assert _media_type(response) == "application/json", _media_type(response)
    body = response.json()
    assert isinstance(body.get("error"), str) and body.get("error_description"), body
    return True


CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    problem_document_for_4xx,
    oauth_error_for_4xx,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    allow_header_conformance,
]


@SCHEMA.parametrize()
@FUZZ
def test_api_answers_every_input_without_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=TOKEN, checks=CHECKS)


# -- the same with resources that exist: random uuids only ever reach the 404 branch -------------


def _call(path: str, method: str, **kwargs: Any) -> Any:
    response = SCHEMA[path][method].Case(headers=TOKEN, **kwargs).call()
    assert response.status_code < 300, (path, method, response.status_code, response.text)
    return response.json()


@pytest.fixture(scope="module")
def known() -> dict[str, str]:
    """A uuid that exists in each seeded collection, read through the API."""
    collections = ("/patients", "/documents", "/notes", "/audios")
    return {collection: _call(collection, "GET")[0]["uuid"] for collection in collections}


def _new_webhook() -> str:
    body = {"url": "https://integration.example/askara", "events": ["new_document"], "active": True}
    return str(_call("/webhooks", "POST", body=body, media_type="application/json")["uuid"])


@SCHEMA.include(path_regex=r"\{uuid\}").parametrize()
@FUZZ
def test_existing_resources_answer_every_input_without_5xx(case: schemathesis.Case, known: dict[str, str]) -> None:
    collection = "/" + case.operation.path.split("/")[1]
    case.path_parameters["uuid"] = _new_webhook() if collection == "/webhooks" else known[collection]
    case.call_and_validate(headers=TOKEN, checks=CHECKS)


# -- the files origin: S3's answers, never a 5xx, and what the document says ---------------------


@FILES_SCHEMA.parametrize()
@FUZZ
def test_files_origin_answers_every_input_without_5xx(case: schemathesis.Case) -> None:
    assert case.operation.base_url == CTX.settings.files_base_url
    case.call_and_validate(checks=CHECKS)


def _valid_link() -> tuple[dict[str, str], dict[str, str]]:
    """Path parameters and query of a real link (the manual clock keeps it valid for the whole module)."""
    url = public_document(CTX, CTX.store.documents.values()[0])["pdf"]["url"]
    _, _, document_uuid, file_name = urlsplit(url).path.split("/")
    return {"document_uuid": document_uuid, "file_name": file_name}, dict(parse_qsl(urlsplit(url).query))


@_load(APP).include(path=FILES_PATH, method="GET").parametrize()
@FUZZ
def test_a_valid_link_answers_every_range(case: schemathesis.Case) -> None:
    case.path_parameters, case.query = _valid_link()
    response = case.call_and_validate(checks=CHECKS)
    if case.method.upper() == "GET":  # the coverage phase also tries other methods: 405, checked above
        assert response.status_code in (200, 206, 416), response.text


# -- without a token ---------------------------------------------------------------------------


@NO_TOKEN_SCHEMA.include(lambda ctx: (ctx.operation.path, ctx.operation.method.upper()) in SECURED).parametrize()
@settings(FUZZ, max_examples=min(3, FUZZ.max_examples))
def test_without_a_token_every_secured_operation_answers_401(case: schemathesis.Case) -> None:
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    raw = (case.path_parameters or {}).get("uuid")
    if isinstance(raw, str) and canonical_uuid(raw) is None:
        # Symfony's route requirement fails before the firewall runs: 404, not 401.
        assert response.status_code == 404, (response.status_code, response.text)
        return
    assert response.status_code == 401, (response.status_code, response.text)
    assert response.headers["www-authenticate"][0].startswith("Bearer"), response.headers


# -- the control API: no conformance (it is the mock's own tool), but no 5xx and problem documents ----

CONTROL_APP = create_app(make_settings())
# POST /_mock/faults injects 5xx on purpose; POST /_mock/snapshot loads webhooks by design (its own fuzz is in
# test_snapshot.py). No public route runs on this mock, so no webhook is ever
# registered and no fuzzed event can make the sender leave the process.
CONTROL_SCHEMA = (_load(CONTROL_APP).include(tag=CONTROL_TAG).exclude(path="/_mock/faults", method="POST")
                  .exclude(path="/_mock/snapshot", method="POST"))


@CONTROL_SCHEMA.parametrize()
@settings(FUZZ, max_examples=min(10, FUZZ.max_examples))
def test_control_api_answers_every_input_without_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error, problem_document_for_4xx])
    assert not CONTROL_APP.state.mock.store.webhooks.values(), "a control call registered a webhook"
