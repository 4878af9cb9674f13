"""The counter's ASGI application (Starlette). Each route calls the library exactly as the CLI
does: the monograph pages are site.build's, the bytes `leaflets site` writes.

Every response carries a strict Content-Security-Policy (no script at all yet, styles only from
this server) and asks browsers not to sniff types, frame the page or send a referrer
(../shared/reference/hipaa-technical-safeguards.md: transmission security, minimum necessary)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import InputError
from ..load import load_pharmacy, product_slugs
from ..pipeline import Settings, render_monograph
from ..site.build import STYLESHEET, base_path, monograph, page
from ..site.html import stylesheet

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
TYPES = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf",
         ".css": "text/css; charset=utf-8"}


def _answer(data: bytes, kind: str, status: int = 200) -> Response:
    return Response(data, status_code=status, media_type=TYPES[kind], headers=HEADERS)


def not_found() -> Response:
    return Response(b"Not found\n", status_code=404, media_type="text/plain; charset=utf-8",
                    headers=HEADERS)


def create_app(settings: Settings) -> Starlette:
    """The application for a pharmacy (settings: its catalog and profile, read at start)."""
    pharmacy = load_pharmacy(settings.pharmacy).model
    base = str(base_path(pharmacy)).rstrip("/")

    def answer(request: Request) -> Response:
        """/monographs/<slug> (the page), /monographs/<slug>.pdf, /monographs/site.css. Only a
        product of the catalog is answered: the name is never used as a path. (A plain def:
        Starlette runs it in its thread pool, so rendering never blocks the event loop.)"""
        name = str(request.path_params["name"])
        if name == STYLESHEET:
            return _answer(stylesheet(), ".css")
        slug, pdf = (name[:-4], True) if name.endswith(".pdf") else (name, False)
        if slug not in product_slugs(settings.catalog):
            return not_found()
        try:
            product, document = monograph(settings, pharmacy, slug)
        except InputError:
            return not_found()
        if pdf:
            return _answer(render_monograph(product, pharmacy, document), ".pdf")
        return _answer(page(pharmacy, product, document), ".html")

    # <slug>/ too: a static host's spelling of the same page (leaflets site).
    routes = [Route(f"{base}/{{name}}", answer), Route(f"{base}/{{name}}/", answer)]
    return Starlette(routes=routes, exception_handlers={404: _not_found_handler})


async def _not_found_handler(request: Request, exc: Exception) -> Response:
    return not_found()

