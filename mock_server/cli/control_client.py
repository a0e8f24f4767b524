"""The control-API client the CLI commands share: one mock's ``/_mock`` calls, errors made readable.

Exit statuses of the client commands (documented in ``askara-mock --help`` and the README):
0 done, 1 the mock refused (its problem document is printed), 2 bad usage, 3 the mock could not
be reached, 4 ``trigger``: no active webhook is subscribed to the event (it fired, nobody gets
it), 5 ``redeliver``: the new attempt had not finished when the wait ran out.
"""

from __future__ import annotations

import os
import ssl
from typing import Any

import click

from mock_server.cli.http_call import TRANSPORT_ERRORS, Answer, exchange
from mock_server.cli.output import DEFAULT_MOCK_URL as DEFAULT_MOCK_URL  # re-exported: the commands import it here
from mock_server.cli.output import program

CONTROL_TOKEN_ENV = "ASKARA_MOCK_CONTROL_TOKEN"
"""The control token the client commands send (``serve`` prints it when bound beyond loopback)."""
MOCK_CA_ENV = "ASKARA_MOCK_CA"
"""A CA file to trust, besides the system store, for a mock served with ``--tls`` (``--mock-ca``)."""
MOCK_CA_META = "askara_mock.mock_ca"
"""Where ``--mock-ca`` leaves its value in the click context, for every client the command makes."""
EXIT_MOCK_REFUSED = 1
EXIT_UNREACHABLE = 3
EXIT_NO_SUBSCRIBER = 4
EXIT_STILL_PENDING = 5


class MockRefused(click.ClickException):
    """The mock answered with an error: show its problem document (title, detail, violations)."""

    exit_code = EXIT_MOCK_REFUSED

    def __init__(self, response: Answer) -> None:
        self.status = response.status_code
        try:
            self.problem: dict[str, Any] = response.json()
        except ValueError:
            self.problem = {"detail": response.text[:500]}
        if not isinstance(self.problem, dict):
            self.problem = {"detail": str(self.problem)[:500]}
        super().__init__(self._describe(response))

    def _describe(self, response: Answer) -> str:
        title = self.problem.get("title") or response.reason_phrase
        lines = [f"{response.method} {response.path} answered {self.status} {title}"]
        detail = str(self.problem.get("detail") or self.problem.get("error_description") or "")
        violations = [v for v in self.problem.get("violations") or [] if isinstance(v, dict)]
        if detail and not (violations and str(violations[0].get("message")) in detail):
            lines.append(f"  {detail}")  # a 422's detail only repeats its violations
        for violation in violations:
            lines.append(f"  - {violation.get('propertyPath') or '(body)'}: {violation.get('message')}")
        return "\n".join(lines)


class MockUnreachable(click.ClickException):
    exit_code = EXIT_UNREACHABLE

    def __init__(self, url: str, error: Exception) -> None:
        super().__init__(
            f"Cannot reach askara-mock at {url} ({type(error).__name__}: {error}).\n"
            f"Is it running? Start it with `{program()} serve`, or point --mock-url / ASKARA_MOCK_URL at it."
        )


class ControlClient:
    """Sync httpx calls to one mock's ``/_mock`` API; errors become the exceptions above."""

    def __init__(
        self, base_url: str, *, timeout: float = 30.0, token: str | None = None, ca_file: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token or os.environ.get(CONTROL_TOKEN_ENV)
        """The control token of a mock bound beyond loopback (``serve`` prints it)."""
        self.ca_file = ca_file or _mock_ca_option() or os.environ.get(MOCK_CA_ENV)
        """The CA file ``serve --tls`` printed; the system store is trusted too, as any client does."""

    def tls(self) -> ssl.SSLContext | None:
        """What an ``https`` mock's certificate is checked against: the system store plus ``ca_file``."""
        if not self.base_url.startswith("https:"):
            return None
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(cafile=self.ca_file)
        return context

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """The mock's answer to one call (2xx or 3xx); the errors above otherwise."""
        if self.token and path.startswith("/_mock"):
            headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        try:
            response = exchange(self.base_url, method, path, body=body, params=params, headers=headers,
                                timeout=self.timeout, tls=self.tls())  # fmt: skip
        except TRANSPORT_ERRORS as exc:
            raise MockUnreachable(self.base_url, exc) from None
        if response.status_code >= 400:
            raise MockRefused(response)
        return response

    def call(self, method: str, path: str, **options: Any) -> Any:
        """The mock's JSON answer to one call (None for an empty one)."""
        response = self.request(method, path, **options)  # body, params, headers
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params={k: v for k, v in params.items() if v is not None} or None)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body=body)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)


def remember_mock_ca(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """``--mock-ca``'s callback: every ControlClient the command makes trusts that CA file."""
    if value:
        ctx.meta[MOCK_CA_META] = value


def _mock_ca_option() -> str | None:
    ctx = click.get_current_context(silent=True)
    value = ctx.meta.get(MOCK_CA_META) if ctx is not None else None
    return str(value) if value else None
