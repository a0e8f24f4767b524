"""askara-mock: a faithful local mock of the Askara API and its webhook sender."""

from mock_server.app import create_app
from mock_server.core.settings import Settings

__all__ = ["Settings", "create_app"]
