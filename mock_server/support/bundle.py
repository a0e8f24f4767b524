"""The reproduction bundle: one zip file holding a story, its transcript and a manifest.

A **zip** (stdlib ``zipfile``, deflate): any machine opens it without tools (Windows Explorer,
macOS Finder, ``unzip``), and each member is read on its own, so ``bundle show`` lists it without
unpacking. Members: ``manifest.json`` (tool version, seed, mode, settings, what is inside, whether
it is redacted), ``scenario.yaml`` (the story that replays it), ``transcript.har``, and, when the
producer has them, ``snapshot.json`` (the mock's state at the start) and ``report.json`` (the
verdicts). Every member is redacted before it is written unless the producer says otherwise.

PyYAML is imported by the two functions that need it, not here: ``serve`` imports this module
(the transcript routes) and would otherwise pay ~20-40 ms at start for a bundle nobody asked for.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from mock_server.support.redact import Redactor

FORMAT = "askara-mock-bundle/1"
SETTINGS_LEFT_OUT = ("client_secret", "url_signing_secret", "webhook_secret", "signing_key_pem", "extra")


@dataclass
class Bundle:
    manifest: dict[str, Any]
    scenario: dict[str, Any] | list[dict[str, Any]] | None = None
    """One scenario (an export's story), or the list of those a run played (``conformance run --bundle``)."""
    har: dict[str, Any] | None = None
    snapshot: Any = None
    report: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def public_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings worth replaying with, secrets left out."""
    return {k: v for k, v in settings.items() if k not in SETTINGS_LEFT_OUT and not k.startswith("_")}


def write_bundle(bundle: Bundle, redactor: Redactor) -> bytes:
    """The zip file's bytes; every member passes through ``redactor``."""
    import yaml  # lazily: see the module docstring

    members: dict[str, str] = {}
    if bundle.scenario is not None:
        members["scenario.yaml"] = yaml.safe_dump(redactor.tree(bundle.scenario), sort_keys=False, allow_unicode=True)
    if bundle.har is not None:
        members["transcript.har"] = json.dumps(redactor.tree(bundle.har), ensure_ascii=False)
    if bundle.snapshot is not None:
        members["snapshot.json"] = json.dumps(redactor.tree(bundle.snapshot), ensure_ascii=False)
    if bundle.report is not None:
        members["report.json"] = json.dumps(redactor.tree(bundle.report), ensure_ascii=False)
    manifest = {
        **bundle.manifest,
        "format": FORMAT,
        "redacted": redactor.enabled,
        "members": sorted(["manifest.json", *members]),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(redactor.tree(manifest), indent=2, ensure_ascii=False))
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def read_bundle(data: bytes) -> Bundle:
    """A bundle back from its bytes; a file that is not one raises ``ValueError`` saying why."""
    import yaml  # lazily: see the module docstring

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a bundle (not a zip file: {exc})") from None
    with archive:
        names = set(archive.namelist())
        if "manifest.json" not in names:
            raise ValueError("not a bundle (no manifest.json inside)")
        manifest = json.loads(archive.read("manifest.json"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"unknown bundle format {manifest.get('format')!r} (this tool reads {FORMAT})")

        def member(name: str, parse: Any) -> Any:
            return parse(archive.read(name).decode("utf-8")) if name in names else None

        return Bundle(
            manifest,
            scenario=member("scenario.yaml", yaml.safe_load),
            har=member("transcript.har", json.loads),
            snapshot=member("snapshot.json", json.loads),
            report=member("report.json", json.loads),
        )
