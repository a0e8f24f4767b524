"""Shared fixtures: in-process clients and mocks served by uvicorn on loopback."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, Verbosity, settings
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.core.tokens import KNOWN_SCOPES
from mock_server.serving import RunningMock, serve_in_thread

settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("debug", max_examples=10, deadline=None, verbosity=Verbosity.debug)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

TEST_SECRET = "test-client-secret"


@functools.cache
def test_signing_key() -> str:
    """One RSA key for every mock the tests build: generating one costs ~0.2 s per app."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def make_settings(**overrides: object) -> Settings:
    base: dict[str, object] = {
        "client_secret": TEST_SECRET,
        "clock": "manual",
        "clock_start": 1_780_000_000.0,
        "signing_key_pem": test_signing_key(),
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture
def mock_settings() -> Settings:
    return make_settings()


@pytest.fixture
def client(mock_settings: Settings) -> Iterator[TestClient]:
    """An in-process client of a fresh mock (lifespan run), manual clock."""
    with TestClient(create_app(mock_settings), base_url=mock_settings.base_url) as test_client:
        yield test_client


@pytest.fixture
def app_client() -> Iterator[Callable[..., TestClient]]:
    """Factory: ``app_client(**settings_overrides)`` gives an in-process client of a new mock."""
    with ExitStack() as stack:

        def factory(**overrides: object) -> TestClient:
            settings = make_settings(**overrides)
            return stack.enter_context(TestClient(create_app(settings), base_url=settings.base_url))

        yield factory


@pytest.fixture
def live_mock() -> Iterator[Callable[..., RunningMock]]:
    """Factory: ``live_mock(**settings_overrides)`` serves a new mock with uvicorn on a free loopback port."""
    with ExitStack() as stack:

        def factory(**overrides: object) -> RunningMock:
            return stack.enter_context(serve_in_thread(make_settings(**overrides)))

        yield factory


def ctx_of(client: TestClient) -> Any:
    """The MockContext behind an in-process client (the seed always has one consenting clinician)."""
    return client.app.state.mock  # type: ignore[attr-defined]


def access_token(client: TestClient, scope: str | None = None) -> str:
    """A fresh access token for the seeded clinician, through the real refresh grant."""
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    scopes = scope.split() if scope else list(KNOWN_SCOPES)
    user = ctx.store.users.values()[0]
    pair = ctx.tokens.issue_pair(ctx.settings.client_id, user["uuid"], scopes)
    return str(pair["access_token"])
