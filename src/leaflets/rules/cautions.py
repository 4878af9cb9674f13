"""Which cautionary statements a label carries. The wording lives in templates/label.xml.j2.

Source: shared/reference/cautions.md and usp-795-bud.md §7–8.
"""

from __future__ import annotations

from enum import StrEnum

from ..models import Product, Schedule, StorageCondition


class Caution(StrEnum):
    # usp-795-bud.md §7: storage on the label when other than controlled room temperature.
    REFRIGERATE = "refrigerate"
    KEEP_FROZEN = "keep-frozen"
    # cautions.md §2: 21 CFR 290.5, Schedules II–IV only (not V), exact wording fixed.
    FEDERAL_TRANSFER = "federal-transfer"
    # cautions.md §4: USP <795> §11 labeling indicates the preparation is compounded.
    COMPOUNDED = "compounded"


_TRANSFER_SCHEDULES = {Schedule.II, Schedule.III, Schedule.IV}


def cautions_for(product: Product) -> tuple[Caution, ...]:
    found: list[Caution] = []
    if product.storage.condition is StorageCondition.REFRIGERATED:
        found.append(Caution.REFRIGERATE)
    elif product.storage.condition is StorageCondition.FROZEN:
        found.append(Caution.KEEP_FROZEN)
    cs = product.controlled_substance
    if cs is not None and cs.schedule in _TRANSFER_SCHEDULES:
        found.append(Caution.FEDERAL_TRANSFER)
    found.append(Caution.COMPOUNDED)
    return tuple(found)
