"""The HTML pages of the OAuth flows: consent, device code entry, errors.

Plain server-rendered forms, no JavaScript: a person clicks through them in a browser, and a
test or a headless integration can POST the same form. Every value shown is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

SCOPE_LABELS = {
    "profile": "Read your profile (name, e-mail, practitioner numbers)",
    "organization": "Read your organization",
    "read:documents": "Read your validated documents and their PDF letters",
    "write:document_integrations": "Report the synchronization status of your documents",
    "read:notes": "Read the notes generated from your consultations",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d2330}"
    "h1{font-size:1.4rem}ul{padding-left:1.2rem}li{margin:.3rem 0}code{background:#eef1f6;padding:0 .25rem}"
    "button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem;border-radius:.3rem;border:1px solid #889}"
    "button[value=approve]{background:#1f6feb;color:#fff;border-color:#1f6feb}"
    ".error{color:#a40e26}.muted{color:#667}input[name=user_code]{font-size:1.3rem;letter-spacing:.15rem}"
)
_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · Askara (mock)</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style></head>'
        f"<body><p class=muted>Askara (mock)</p><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def error_page(title: str, message: str, status: int = 400) -> HTMLResponse:
    """An error the browser must show rather than redirect (RFC 6749 section 4.1.2.1)."""
    return page(title, f'<p class="error">{escape(message)}</p>', status)


def _scope_list(scopes: list[str]) -> str:
    items = "".join(f"<li><code>{escape(s)}</code> {escape(SCOPE_LABELS.get(s, ''))}</li>" for s in scopes)
    return f"<ul>{items}</ul>"


def _hidden(fields: dict[str, str]) -> str:
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())


def _decision_buttons() -> str:
    return (
        '<p><button type="submit" name="decision" value="approve">Authorize</button>'
        '<button type="submit" name="decision" value="deny">Deny</button></p>'
    )


def consent_page(client_id: str, user_email: str, scopes: list[str], fields: dict[str, str]) -> HTMLResponse:
    """Authorize / Deny for an authorization code request; the form carries the request back."""
    body = (
        f"<p>The application <code>{escape(client_id)}</code> asks to access your Askara account"
        f" ({escape(user_email)}) with these permissions:</p>{_scope_list(scopes)}"
        f'<form method="post" action="/authorize">{_hidden(fields)}{_decision_buttons()}</form>'
    )
    return page("Authorize application", body)


def device_entry_page(user_code: str = "", error: str | None = None, status: int = 200) -> HTMLResponse:
    """Where the user types the code their desktop software shows."""
    message = f'<p class="error">{escape(error)}</p>' if error else ""
    body = (
        f"{message}<p>Enter the code shown by your software.</p>"
        '<form method="get" action="/device"><p><input name="user_code" autocomplete="off" autofocus'
        f' placeholder="8 letters" value="{escape(user_code)}"></p>'
        '<p><button type="submit">Continue</button></p></form>'
    )
    return page("Connect a device", body, status)


def device_confirm_page(user_code: str, client_id: str, user_email: str, scopes: list[str]) -> HTMLResponse:
    body = (
        f"<p>The software <code>{escape(client_id)}</code> showing the code <code>{escape(user_code)}</code>"
        f" asks to access your Askara account ({escape(user_email)}) with these permissions:</p>"
        f'{_scope_list(scopes)}<form method="post" action="/device">{_hidden({"user_code": user_code})}'
        f"{_decision_buttons()}</form>"
    )
    return page("Connect a device", body)


def device_done_page(approved: bool) -> HTMLResponse:
    if approved:
        return page("Device connected", "<p>You may close this page and return to your software.</p>")
    return page("Access denied", "<p>The software was not given access. You may close this page.</p>")
