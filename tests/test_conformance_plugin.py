"""The pytest plugin as a vendor uses it: a test file of their own, with the ``askara_mock``,
``askara_mock_client`` and ``askara_conformance`` fixtures and ``assert_conformant``, run by pytest
(pytester, in-process: the plugin comes in through its ``pytest11`` entry point, not a conftest).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REFERENCE = Path(__file__).resolve().parent / "integrations" / "reference.py"

VENDOR_TESTS = '''
import httpx
import pytest

from conformance.plugin import assert_conformant
from mock_server.serving import free_port

PYTHON = {python!r}
REFERENCE = {reference!r}


def test_the_mock_serves_the_public_api(askara_mock, askara_mock_client):
    assert askara_mock.url.startswith("http://127.0.0.1:")
    creds = askara_mock_client.credentials()
    token = httpx.post(
        askara_mock.url + "/oauth2/token",
        json={{"grant_type": "refresh_token", "refresh_token": creds["refresh_token"],
               "client_id": creds["client_id"], "client_secret": creds["client_secret"]}},
    ).json()["access_token"]
    me = httpx.get(askara_mock.url + "/me", headers={{"Authorization": "Bearer " + token}})
    assert me.status_code == 200


@pytest.mark.askara_mock(seed=42, seed_documents=3)
def test_the_marker_sets_the_mocks_settings(askara_mock, askara_mock_client):
    assert askara_mock.settings.seed == 42
    assert len(askara_mock_client.list_of("/_mock/documents")) == 3
    created = askara_mock_client.post("/_mock/documents", {{"validate": True}})
    assert created["document"]["state"] == "verified"


def test_our_integration_is_ready_for_askara(askara_conformance, tmp_path):
    port = free_port()
    result = askara_conformance(
        f"http://127.0.0.1:{{port}}/webhook",
        scenarios=["basics"],
        start=f"{{PYTHON}} {{REFERENCE}} --port {{port}} --data-dir {{tmp_path}}",
        timeout=40,
    )
    assert_conformant(result)
    assert result.exit_code == 0


def test_a_broken_integration_is_explained(askara_conformance, tmp_path):
    port = free_port()
    result = askara_conformance(
        f"http://127.0.0.1:{{port}}/webhook",
        scenarios=["basics"],
        start=f"{{PYTHON}} {{REFERENCE}} --port {{port}} --data-dir {{tmp_path}} --defect never-confirm",
        timeout=5,
    )
    assert result.exit_code == 1
    assert_conformant(result)  # fails this test with the failed check and its evidence
'''


@pytest.fixture
def vendor_file(pytester: pytest.Pytester) -> Path:
    return pytester.makepyfile(test_vendor=VENDOR_TESTS.format(python=sys.executable, reference=str(REFERENCE)))


@pytest.mark.e2e
def test_a_vendor_suite_uses_the_fixtures(pytester: pytest.Pytester, vendor_file: Path) -> None:
    outcome = pytester.runpytest("-p", "no:cacheprovider", "-q")
    outcome.assert_outcomes(passed=3, failed=1)
    text = outcome.stdout.str()
    # assert_conformant's failure names the check, its message and the evidence, without a traceback.
    assert "conformance checks failed:" in text
    assert "always-confirm: [basics] 2 of 2 delivered documents got no POST /documents/{uuid}/status" in text
    assert '"document":' in text
    assert "test_a_broken_integration_is_explained" in text


def test_the_plugin_registers_its_marker(pytester: pytest.Pytester) -> None:
    outcome = pytester.runpytest("--markers")
    outcome.stdout.fnmatch_lines(["@pytest.mark.askara_mock(**settings)*"])
