"""Placeholder: being written in this session."""

from __future__ import annotations

from mock_server.context import MockContext


def seed_store(context: MockContext) -> None:
    return None
