"""`leaflets site --out DIR`: every product's monograph as a web page and its PDF, as static
files for a pharmacy that hosts them elsewhere, at the paths the labels' QR codes name
(pharmacy.monograph_base_url: <base>/<slug>): DIR/<base path>/<slug>/index.html (a static host
answers <base>/<slug>/ with it), DIR/<base path>/<slug>.pdf and DIR/<base path>/site.css."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from ..compose import Context
from ..load import load_pharmacy, load_product
from ..models import Pharmacy
from ..pipeline import Settings, each_product, monograph_document, render_monograph
from ..write import write_outputs
from .html import monograph_page, stylesheet

STYLESHEET = "site.css"


def base_path(pharmacy: Pharmacy) -> PurePosixPath:
    """The path part of the monograph base URL ('/monographs'), where the pages live."""
    return PurePosixPath(urlparse(pharmacy.monograph_base_url).path.rstrip("/") or "/")


def monograph_files(settings: Settings, slug: str) -> dict[str, bytes]:
    """One product's page and PDF, by their paths under the base path ('<slug>/index.html',
    '<slug>.pdf'): what `site` writes and what the counter's server answers."""
    pharmacy = load_pharmacy(settings.pharmacy).model
    product = load_product(settings.catalog, slug)
    document = monograph_document(product, pharmacy)
    base = base_path(pharmacy)
    revised = Context(product=product.model, pharmacy=pharmacy,
                      url=pharmacy.monograph_url(slug)).variables()["revised"]
    page = monograph_page(document, pharmacy=pharmacy.name, revised=revised,
                          pdf=str(base / f"{slug}.pdf"), stylesheet=str(base / STYLESHEET))
    return {f"{slug}/index.html": page,
            f"{slug}.pdf": render_monograph(product, pharmacy, document)}


def build_site(settings: Settings, out: Path) -> list[Path]:
    """The stylesheet, then every product's files (a bad product reported after the good)."""
    pharmacy = load_pharmacy(settings.pharmacy).model
    folder = out / base_path(pharmacy).relative_to("/")
    written = write_outputs(folder, {STYLESHEET: stylesheet()})
    return written + each_product(settings, folder, lambda slug: monograph_files(settings, slug))
