"""Which auxiliary warnings a product carries: those its file lists and those its data calls for.

Pure: no I/O. The words are the pharmacy's catalog (warnings.yaml); a warning is chosen by code
and printed in the catalog's priority order, each once. Choosing warnings is a pharmacist's
decision (shared/reference/auxiliary-warnings.md, preamble): the rules below add only what the
product data makes certain, and the product file adds the rest with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SafetyError
from ..models import Product, Route, StorageCondition, WarningCatalog

# The codes the rules add. A catalog must hold each one a product of the pharmacy calls for.
REFRIGERATE = "refrigerate-do-not-freeze"
SHAKE_WELL = "shake-well"
EXTERNAL_USE = "external-use-only"
TESTOSTERONE_EXPOSURE = "testosterone-secondary-exposure"
HAZARDOUS_DRUG = "hazardous-drug-handling"


@dataclass(frozen=True)
class ChosenWarning:
    code: str
    priority: int
    reason: str
    by_rule: bool          # added by a rule (else listed in the product file)


def rule_warnings(product: Product) -> list[tuple[str, str]]:
    """(code, reason) of each warning the product's data calls for."""
    found: list[tuple[str, str]] = []
    # usp-795-bud.md §7–8: storage other than CRT is stated; auxiliary-warnings.md §3 (Allen,
    # US Pharmacist 2018; "Do not freeze" from vendor lists). This is the label's one storage
    # statement for a refrigerated product (rules/cautions.py no longer prints its own).
    if product.storage.condition is StorageCondition.REFRIGERATED:
        found.append((REFRIGERATE, "storage.condition is refrigerated"))
    # auxiliary-warnings.md §3: "Shake well" for a suspension, not for a true solution.
    if product.suspension:
        found.append((SHAKE_WELL, "the product is a suspension"))
    # auxiliary-warnings.md §3: "For external use only" (United Ad Label catalogue list).
    if product.route is Route.TOPICAL:
        found.append((EXTERNAL_USE, "route is topical"))
        # auxiliary-warnings.md §3: FDA 2009 boxed warning on secondary exposure to topical
        # testosterone (approved gels; applied to creams as the safer reading, UNVERIFIED).
        if any("testosterone" in i.name.lower() for i in product.active_ingredients):
            found.append((TESTOSTERONE_EXPOSURE, "a topical testosterone product"))
    # auxiliary-warnings.md §4: a drug on the NIOSH list; USP <800> §11.1 and the patient and
    # caregiver handling sheets.
    if product.hazardous_drug is not None:
        found.append((HAZARDOUS_DRUG, f"on the NIOSH hazardous drug list, table "
                                      f"{product.hazardous_drug.niosh_table}"))
    return found


def choose_warnings(product: Product, catalog: WarningCatalog) -> tuple[ChosenWarning, ...]:
    """The product's warnings, each code once (the product file's reason kept over a rule's),
    in print order: by the catalog's priority, then by code."""
    chosen: dict[str, ChosenWarning] = {}
    entries = catalog.warnings
    for listed in product.auxiliary_warnings:
        if listed.code not in entries:     # load.check_warning_codes reports it at its line
            raise SafetyError(f"auxiliary_warnings.{listed.code}",
                              f"unknown auxiliary warning '{listed.code}'")
        chosen.setdefault(listed.code, ChosenWarning(listed.code, entries[listed.code].priority,
                                                     listed.reason, False))
    for code, reason in rule_warnings(product):
        if code not in entries:
            raise SafetyError("auxiliary_warnings",
                              f"the rules add the warning '{code}' ({reason}), but the warning "
                              "catalog has no such entry: add it to warnings.yaml")
        chosen.setdefault(code, ChosenWarning(code, entries[code].priority, reason, True))
    return tuple(sorted(chosen.values(), key=lambda w: (w.priority, w.code)))


def warning_texts(chosen: tuple[ChosenWarning, ...], catalog: WarningCatalog, language: str
                  ) -> tuple[tuple[str, str], ...]:
    """(code, text) of each chosen warning in `language`; a warning the catalog has no text
    for in that language is refused, never printed in English unannounced."""
    out = []
    for warning in chosen:
        text = catalog.warnings[warning.code].text.get(language)
        if text is None:
            raise SafetyError(f"warnings.{warning.code}.text.{language}",
                              f"the auxiliary warning '{warning.code}' has no '{language}' text "
                              "in the warning catalog: add it (a pharmacist reviews it), or "
                              "print this fill in English")
        out.append((warning.code, text))
    return tuple(out)


def unreviewed(chosen: tuple[ChosenWarning, ...], catalog: WarningCatalog, language: str
               ) -> list[str]:
    """The codes of chosen warnings whose text in `language` no pharmacist has reviewed."""
    if language == "en":
        return []
    return [w.code for w in chosen if language not in catalog.warnings[w.code].reviewed_by]
