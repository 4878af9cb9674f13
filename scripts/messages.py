"""Refresh the translation catalogs from the templates (README: "Adding a language").

    .venv/bin/python scripts/messages.py            extract every message of templates/*.j2 into
                                                    templates/locale/leaflets.pot, and bring each
                                                    templates/locale/<code>/LC_MESSAGES/leaflets.po
                                                    up to date (new messages empty, gone ones
                                                    dropped; translations kept)
    .venv/bin/python scripts/messages.py --init fr  start a catalog for a new language

Babel does the extraction (Jinja2's extractor) and the merging; a message left empty is
missing, and a render that needs it fails naming it (src/leaflets/i18n.py). Messages with the
context "as-needed reason" or "purpose" translate data, not the templates: they are kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from leaflets.i18n import PURPOSE, REASON, template_messages
from leaflets.resources import locale_dir

LOCALE = locale_dir()                    # where the package reads the catalogs from
ROOT = LOCALE.parents[1]
FIXED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)   # no clock in the files: same input, same bytes
KEPT = (REASON, PURPOSE)   # translations of data, not of template messages


def extract() -> Catalog:
    pot = Catalog(project="leaflets", creation_date=FIXED, revision_date=FIXED)
    for message, comments, context in template_messages():
        pot.add(message, None, auto_comments=comments, context=context)
    return pot


def write(catalog: Catalog, path: Path) -> None:
    with path.open("wb") as f:
        write_po(f, catalog, width=100, no_location=True, sort_output=True, ignore_obsolete=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init", metavar="CODE", help="start the catalog of a new language")
    args = parser.parse_args()
    pot = extract()
    write(pot, LOCALE / "leaflets.pot")
    if args.init:
        path = LOCALE / args.init / "LC_MESSAGES" / "leaflets.po"
        if path.exists():
            sys.exit(f"{path} exists: run without --init to update it")
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=args.init, project="leaflets", creation_date=FIXED,
                          revision_date=FIXED)
        catalog.update(pot)
        write(catalog, path)
        print(f"started {path.relative_to(ROOT)}; add '{args.init}' to templates/languages.yaml")
    for path in sorted(LOCALE.glob("*/LC_MESSAGES/leaflets.po")):
        with path.open("rb") as f:
            catalog = read_po(f, locale=path.parts[-3])
        data = [m for m in catalog if m.context in KEPT]
        catalog.update(pot, no_fuzzy_matching=True)
        for m in data:
            catalog.add(m.id, m.string, context=m.context, user_comments=m.user_comments)
        write(catalog, path)
        missing = [m.id for m in catalog if m.id and not all(
            m.string if isinstance(m.string, tuple | list) else [m.string])]
        print(f"{path.relative_to(ROOT)}: {len(missing)} message(s) to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
