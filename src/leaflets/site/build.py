"""`leaflets site --out DIR`: every product's monograph as a web page and its PDF, as static
files for a pharmacy that hosts them elsewhere, at the paths the labels' QR codes name
(pharmacy.monograph_base_url: <base>/<slug>): DIR/<base path>/<slug>/index.html (a static host
answers <base>/<slug>/ with it), DIR/<base path>/<slug>.pdf and DIR/<base path>/site.css."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from ..compose import Context, Document
from ..load import Loaded, load_pharmacy, load_product
from ..models import Pharmacy, Product
from ..pipeline import Settings, each_product, monograph_document, render_monograph
from ..write import write_outputs
from .html import monograph_page, stylesheet

STYLESHEET = "site.css"


def base_path(pharmacy: Pharmacy) -> PurePosixPath:
    """The path part of the monograph base URL ('/monographs'), where the pages live."""
    return PurePosixPath(urlparse(pharmacy.monograph_base_url).path.rstrip("/") or "/")


def monograph(settings: Settings, pharmacy: Pharmacy, slug: str
              ) -> tuple[Loaded[Product], Document]:
    """A product of the catalog and its composed monograph."""
    product = load_product(settings.catalog, slug)
    return product, monograph_document(product, pharmacy)


def page(pharmacy: Pharmacy, product: Loaded[Product], document: Document) -> bytes:
    """A composed monograph as its web page (the PDF and stylesheet named by their paths)."""
    slug, base = product.model.slug, base_path(pharmacy)
    revised = Context(product=product.model, pharmacy=pharmacy,
                      url=pharmacy.monograph_url(slug)).variables()["revised"]
    return monograph_page(document, pharmacy=pharmacy.name, revised=revised,
                          pdf=str(base / f"{slug}.pdf"), stylesheet=str(base / STYLESHEET))


def monograph_files(settings: Settings, pharmacy: Pharmacy, slug: str) -> dict[str, bytes]:
    """One product's page and PDF, by their paths under the base path ('<slug>/index.html',
    '<slug>.pdf'): what `site` writes (the counter's server answers each alone)."""
    product, document = monograph(settings, pharmacy, slug)
    return {f"{slug}/index.html": page(pharmacy, product, document),
            f"{slug}.pdf": render_monograph(product, pharmacy, document)}


def build_site(settings: Settings, out: Path) -> list[Path]:
    """The stylesheet, then every product's files (a bad product reported after the good)."""
    pharmacy = load_pharmacy(settings.pharmacy).model
    folder = out / base_path(pharmacy).relative_to("/")
    written = write_outputs(folder, {STYLESHEET: stylesheet()})
    return written + each_product(settings, folder,
                                  lambda slug: monograph_files(settings, pharmacy, slug))
