"""A single-file HTML report a support engineer can attach to a ticket: verdict, each failed check
with its evidence, the warnings (assumptions relied on, flagged webhooks), every scenario, and the
timeline of deliveries, calls and status reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from conformance.reports.data import to_dict
from conformance.reports.summary import NOTHING_JUDGED
from conformance.runner import RunResult
from conformance.verdict import NOT_PLAYED_WHOLE

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1c2430;max-width:75rem}
h1{margin:0 0 .3rem}h2{margin-top:2rem;border-bottom:1px solid #d5dbe3;padding-bottom:.2rem}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:.7rem;font-weight:600;font-size:.85em}
.passed{background:#dff5e3;color:#11622a}.failed{background:#fde2e1;color:#8c1c13}
.skipped,.error{background:#eef0f3;color:#4a5563}.warning{background:#fff1d6;color:#7a4d00}.error{background:#fff1d6;color:#7a4d00}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border-bottom:1px solid #e5e9ef;
padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:24rem;font-size:12px}
details{margin:.4rem 0}.muted{color:#6b7785}
"""


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status)}</span>'


def _when(wall: Any) -> str:
    if not isinstance(wall, int | float):
        return ""
    return datetime.fromtimestamp(wall, tz=UTC).strftime("%H:%M:%S.%f")[:-3]


def render(result: RunResult) -> str:
    data = to_dict(result)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>askara-mock conformance report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Conformance report {_badge(data['verdict'])}</h1>",
        f"<p class='muted'>target {escape(str(data['target_url']))} · mode {escape(data['mode'])} · "
        f"{data['duration_s']} s · askara-mock {escape(data['version'])} · "
        f"{escape(datetime.fromtimestamp(data['started_at'], tz=UTC).isoformat())}</p>",
    ]
    if data["error"]:
        unjudged = data["error"].startswith(NOTHING_JUDGED)
        cut = data["error"].startswith(NOT_PLAYED_WHOLE)
        title = ("Not a pass: nothing was judged" if unjudged else "Not a pass: a scenario was not played whole"
                 if cut else "The run could not be made")  # fmt: skip
        parts.append(f"<h2>{title}</h2><pre>{escape(data['error'])}</pre>")
    summary = data["summary"]
    parts.append(f"<p>{summary['passed']} passed · {summary['failed']} failed · {summary['skipped']} skipped</p>")
    failed = [c for c in data["checks"] if c["status"] == "failed"]
    if failed:
        parts.append("<h2>Failed checks</h2>")
        for check in failed:
            parts.append(
                f"<h3>{escape(check['id'])} {_badge('failed')}</h3><p class='muted'>{escape(check['title'])}</p>"
                f"<p>{escape(check['message'])}</p>"
                f"<details open><summary>Evidence ({len(check['evidence'])})</summary>"
                f"<pre>{escape(json.dumps(check['evidence'], indent=2, default=str))}</pre></details>"
            )
    parts.extend(_warnings(data["warnings"]))
    parts.append(
        "<h2>All checks</h2><table><tr><th>check</th><th>status</th><th>what it proves</th><th>result</th></tr>"
    )
    for check in data["checks"]:
        parts.append(
            f"<tr><td>{escape(check['id'])}</td><td>{_badge(check['status'])}</td>"
            f"<td>{escape(check['title'])}</td><td>{escape(check['message'])}</td></tr>"
        )
    parts.append(
        "</table><h2>Scenarios</h2><table><tr><th>scenario</th><th>status</th><th>time</th><th>notes</th></tr>"
    )
    for scenario in data["scenarios"]:
        parts.append(
            f"<tr><td>{escape(scenario['name'])}<div class='muted'>{escape(scenario['source'])}</div></td>"
            f"<td>{_badge(scenario['status'])}</td><td>{scenario['duration_s']} s</td>"
            f"<td>{escape('; '.join(scenario['problems']))}</td></tr>"
        )
    parts.append(
        "</table><h2>Timeline</h2><table><tr><th>time (UTC)</th><th>kind</th><th>what</th>"
        "<th>result</th><th>ms</th></tr>"
    )
    for item in data["timeline"]:
        parts.append(
            f"<tr><td>{_when(item.get('wall'))}</td><td>{escape(str(item.get('kind')))}"
            f"{' <span class=muted>(harness)</span>' if item.get('by') == 'harness' else ''}</td>"
            f"<td>{escape(str(item.get('what')))}</td><td>{escape(str(item.get('result')))}</td>"
            f"<td>{escape(str(item.get('latency_ms') or ''))}</td></tr>"
        )
    parts.append("</table>")
    integration = data.get("integration") or {}
    if integration.get("output_tail"):
        parts.append(f"<h2>Integration output (tail)</h2><pre>{escape(integration['output_tail'])}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _warnings(warnings: dict[str, Any]) -> list[str]:
    """The warnings' own sections (none when there is nothing to say)."""
    parts: list[str] = []
    if warnings["assumptions"]:
        parts.append(
            "<h2>Relied on assumptions</h2><p class='muted'>Answers the integration got that rest on the mock's "
            "guesses about Askara (docs/assumptions.md). Not failures: verify each in Askara's staging.</p>"
            "<table><tr><th>assumption</th><th>what the mock did</th><th>requests</th><th>verify</th></tr>"
        )
        for item in warnings["assumptions"]:
            requests = "<br>".join(
                f"#{r['journal_id']} {escape(str(r['method']))} {escape(str(r['path']))} → {escape(str(r['status']))}"
                for r in item["requests"]
            )
            shown_all = item["count"] <= len(item["requests"])
            more = "" if shown_all else f"<br><span class='muted'>{item['count']} in all</span>"
            parts.append(
                f"<tr><td>{_badge('warning')} {escape(item['id'])}<div class='muted'>{escape(item['docs'])}</div></td>"
                f"<td>{escape(item['text'])}<div class='muted'>{escape(item['source'])} "
                f"({escape(item['leniency'])})</div></td><td>{requests}{more}</td><td>{escape(item['verify'])}</td></tr>"
            )
        parts.append("</table>")
    if warnings["webhooks"]:
        parts.append("<h2>Webhook warnings</h2><table><tr><th>webhook</th><th>url</th><th>warning</th></tr>")
        for hook in warnings["webhooks"]:
            for warning in hook["warnings"]:
                parts.append(
                    f"<tr><td>{_badge('warning')} {escape(hook['uuid'])}</td><td>{escape(hook['url'])}</td>"
                    f"<td>{escape(warning)}</td></tr>"
                )
        parts.append("</table>")
    return parts


def write_html(result: RunResult, path: str | Path) -> None:
    Path(path).write_text(render(result), encoding="utf-8")
