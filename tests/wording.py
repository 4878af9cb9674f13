"""The fixed words a label or leaflet must show in each language, written here from the
references (21 CFR 290.5 and 290.6, shared/reference/cautions.md §2) and from the wording the
docs/rules.md documents, never read from the templates or catalogs the code prints from."""

from __future__ import annotations

import datetime as dt
from typing import Any

_MESES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
          "octubre", "noviembre", "diciembre"]


def date_words(language: str, iso: str) -> str:
    """A date as the documents print it: the pharmacy's MM/DD/YYYY in English, the month's name
    in Spanish (templates/languages.yaml, dates: long)."""
    day = dt.date.fromisoformat(iso)
    if language == "es":
        return f"{day.day} de {_MESES[day.month - 1]} de {day.year}"
    return day.strftime("%m/%d/%Y")

WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "page": "Page {n} of {total}",
        "filled": "Filled {date}",
        "use_by": "Use by {date}",
        "qty": "Qty",
        "nouns": {"capsule": "capsule", "mL": "mL", "g": "g"},
        "plural": "s",
        "refills": {0: "No refills", 1: "1 refill left", "n": "{n} refills left"},
        "purpose": "Purpose: {purpose}",
        "purposes": {},
        "compounded": "Compounded by",
        "english": None,
        # 21 CFR 290.5, exact wording
        "transfer": ("Caution: Federal law prohibits the transfer of this drug to any person "
                     "other than the patient for whom it was prescribed."),
        "refrigerator": "refrigerator",
    },
    "es": {
        "page": "Página {n} de {total}",
        "filled": "Surtido el {date}",
        "use_by": "Usar hasta el {date}",
        "qty": "Cantidad:",
        "nouns": {"capsule": "cápsula", "mL": "mL", "g": "g"},
        "plural": "s",
        "refills": {0: "Sin resurtidos", 1: "Queda 1 resurtido", "n": "Quedan {n} resurtidos"},
        "purpose": "Propósito: {purpose}",
        # the purposes of the examples, in the catalog's words (msgctxt "purpose")
        "purposes": {"to lower estrogen": "para bajar el estrógeno",
                     "for low testosterone": "para la testosterona baja"},
        "compounded": "Medicamento compuesto por",
        "english": "En inglés: {directions}",
        # 21 CFR 290.6, as the CFR prints it (without accents)
        "transfer": ("Precaucion: La ley Federal prohibe el transferir de esta droga a otra "
                     "persona que no sea el paciente para quien fue recetada."),
        "refrigerator": "refrigerador",
    },
}
