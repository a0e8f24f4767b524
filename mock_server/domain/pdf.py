"""Real PDF letters (fpdf2) for the documents the mock serves.

An integration under test stores, parses or forwards the PDF, so the bytes must be a PDF a
reader opens, with the patient's name in its text. Rendering takes milliseconds, a download
loop can ask for the same file many times, so rendered bytes are cached per document.
The text is derived from the document record and a Faker seeded by the document uuid: the same
document always gives the same letter. fpdf2 and Faker are imported on the first rendering, not
with the module: together they cost ``serve`` ~0.6 s of start-up for what only a download needs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mock_server.core.context import MockContext
from mock_server.core.store import Record
from mock_server.domain.datagen import MOTIFS

if TYPE_CHECKING:
    from faker import Faker
    from fpdf import FPDF

CACHE_SIZE = 256
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
_LATIN1 = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "œ": "oe", "Œ": "OE", "—": "-", "–": "-", "…": "..."})
SUBJECTS = {
    "referral_letter": "Courrier d'adressage",
    "consultation_report": "Compte rendu de consultation",
    "prescription": "Ordonnance",
    "medical_certificate": "Certificat médical",
}


def render_document_pdf(ctx: MockContext, doc: Record) -> bytes:
    """The PDF of ``doc``, from the per-mock cache when it was rendered before."""
    cache = ctx.caches.pdfs
    key = (doc["uuid"], doc["pdf"]["fileName"], doc.get("createdAt"), doc.get("title"))
    body = cache.get(key)
    if body is None:
        body = render_letter(ctx, doc)
        cache[key] = body
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return body


def french_date(epoch: float) -> str:
    day = datetime.fromtimestamp(int(epoch), tz=UTC)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def render_letter(ctx: MockContext, doc: Record) -> bytes:
    """A one-page letter: letterhead, place and date, subject, patient, body, signature."""
    org = ctx.store.organizations.get(doc.get("_organization_id") or "") or {}
    user = ctx.store.users.get(doc.get("_user_id") or "") or {}
    patient = doc["patient"]
    from faker import Faker
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    faker = Faker("fr_FR")
    faker.seed_instance(doc["uuid"])
    when = doc.get("validatedAt") or doc["createdAt"]
    clinician = f"Dr {user.get('firstName', '')} {str(user.get('lastName', '')).upper()}".strip()
    patient_name = f"{patient.get('firstName') or ''} {str(patient.get('lastName') or '').upper()}".strip()

    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime.fromtimestamp(int(when), tz=UTC))
    pdf.set_title(_t(doc.get("title") or SUBJECTS.get(doc["type"], "Document")))
    pdf.set_author(_t(clinician))
    pdf.set_creator("askara-mock")
    pdf.set_margins(20, 20, 20)
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 13)
    _line(pdf, org.get("name", "Cabinet médical"), 7)
    pdf.set_font("Helvetica", "", 10)
    town = f"{org.get('postalCode', '')} {org.get('city', '')}".strip()
    for text in (org.get("streetAddress"), town, org.get("phone")):
        if text:
            _line(pdf, text, 5)
    _line(pdf, f"{clinician} - RPPS {user.get('rpps', '')}", 5)
    pdf.ln(8)
    place = f"{org.get('city', 'Paris')}, le {french_date(when)}"
    pdf.cell(0, 6, _t(place), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    pdf.set_font("Helvetica", "B", 11)
    _line(pdf, f"Objet : {SUBJECTS.get(doc['type'], doc['type'])} - {patient_name}", 6)
    pdf.set_font("Helvetica", "", 11)
    birth = patient.get("dateOfBirth")
    _line(pdf, f"Patient : {patient_name}" + (f", né(e) le {_french_iso_date(birth)}" if birth else ""), 6)
    if patient.get("externalId"):
        _line(pdf, f"Référence : {patient['externalId']}", 6)
    pdf.ln(6)

    for paragraph in _body(doc, patient_name, faker):
        _paragraph(pdf, _t(paragraph), 5.5)
        pdf.ln(3)
    pdf.ln(6)
    _line(pdf, clinician, 6)
    return bytes(pdf.output())


def _body(doc: Record, patient_name: str, faker: Faker) -> list[str]:
    motif = faker.random_element(MOTIFS)
    kind = doc["type"]
    if kind == "referral_letter":
        opening = (
            f"Cher confrère,\n\nJe vous adresse {patient_name}, que je suis pour {motif}, "
            "afin de recueillir votre avis spécialisé."
        )
        closing = "Je vous remercie de bien vouloir le ou la recevoir. Bien confraternellement."
    elif kind == "prescription":
        opening = "Paracétamol 1 g : 1 comprimé trois fois par jour pendant 5 jours.\nRenouvellement : non."
        closing = f"Prescription établie dans le cadre du suivi pour {motif}."
    elif kind == "medical_certificate":
        opening = f"Je soussigné(e) certifie avoir examiné ce jour {patient_name}."
        closing = (
            "Certificat établi à la demande de l'intéressé(e) et remis en main propre "
            "pour faire valoir ce que de droit."
        )
    else:
        opening = f"Consultation de ce jour pour {motif}."
        closing = "Prochain rendez-vous à prévoir selon l'évolution."
    return [opening, faker.paragraph(nb_sentences=4), faker.paragraph(nb_sentences=3), closing]


def _paragraph(pdf: FPDF, text: str, height: float) -> None:
    """Word-wrap ``text`` into cells: fpdf2's multi_cell measures every character through its
    whole line-breaking engine (~25 ms a letter); one width per word is plenty for a letter."""
    from fpdf.enums import XPos, YPos

    width = pdf.w - pdf.l_margin - pdf.r_margin
    font = pdf.current_font
    assert font is not None, "a font is set before any text"
    widths: dict[str, int] = font.cw  # type: ignore[assignment]  # core font: per-character widths in 1/1000 em
    scale = pdf.font_size / 1000

    def measure(word: str) -> float:
        return sum(widths.get(char, 600) for char in word) * scale

    space = measure(" ")
    for block in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for word in block.split():
            size = measure(word)
            if line and used + space + size > width:
                pdf.cell(0, height, " ".join(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                line, used = [], 0.0
            used += (space if line else 0.0) + size
            line.append(word)
        pdf.cell(0, height, " ".join(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _line(pdf: FPDF, text: str, height: float) -> None:
    from fpdf.enums import XPos, YPos

    pdf.cell(0, height, _t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _t(text: str) -> str:
    """Text the PDF core fonts can draw (latin-1): typographic signs become their plain forms."""
    return str(text).translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _french_iso_date(value: str) -> str:
    try:
        year, month, day = (int(part) for part in value[:10].split("-"))
    except ValueError:
        return value
    return f"{day:02d}/{month:02d}/{year}"
