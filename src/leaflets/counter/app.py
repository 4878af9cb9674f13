"""The counter's ASGI application (Starlette): routes, sign-in and the guards every page passes.
It is an adapter: each page reads its form, hands the work to the desk (counter.desk, the same
library calls as the CLI) and shows the outcome with templates/counter/.

Security (../shared/reference/hipaa-technical-safeguards.md; OWASP cheat sheets):
- access control: every page but sign-in, the monographs and the static files needs a signed-in
  user, and each action its role (a technician enters, a pharmacist approves);
- sessions are server-side (counter.sessions): an HttpOnly, SameSite=Strict cookie, Secure
  under TLS, ended after `idle` without a request (15 minutes at most);
- every POST carries the session's CSRF token (a hidden field) or is refused with 403;
- every response carries a strict Content-Security-Policy: scripts and styles from this
  server only, no inline script, no eval; nothing may frame a page;
- no patient data in a URL (entries, fills and previews are named by number, Rx or a random
  name), a page title or a log line: the server logs only the method, path and status, and an
  unexpected error only its type.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import tempfile
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import InputError, LeafletsError, Problem
from ..load import BATCH_SUFFIXES, product_slugs
from ..parse import MAX_BATCH_BYTES
from ..pipeline import Settings, render_monograph
from ..record.stage import now
from ..site.build import STYLESHEET, base_path, monograph, page
from ..site.html import stylesheet
from . import form
from .desk import Desk
from .pages import STATIC, Pages
from .queue import NoEntry
from .sessions import IDLE_LIMIT, Sessions, Visit
from .uploads import Upload, Uploads
from .users import LOCK_AFTER, LOCK_FOR, Outcome, User, Users, users_path

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self'; connect-src 'self'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
TYPES = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf",
         ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".png": "image/png", ".txt": "text/plain; charset=utf-8"}
COOKIE = "leaflets_session"
FORM_BYTES = 64 << 10                      # a fill form is a few KiB
UPLOAD_BYTES = MAX_BATCH_BYTES + FORM_BYTES
HSTS = b"max-age=31536000"
# Who works with fills, and so sees patient data (an admin does not: minimum necessary,
# hipaa-technical-safeguards.md).
STAFF = ("technician", "pharmacist")
MAX_SIGN_INS = 8                           # waiting at once; more are asked to try again

LOG = logging.getLogger("leaflets.counter")
T = TypeVar("T")
Handler = Callable[[Request, Visit, FormData | None], Awaitable[Response]]


def _answer(data: bytes, kind: str, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    return Response(data, status_code=status, media_type=TYPES[kind],
                    headers={**HEADERS, **(headers or {})})


def not_found() -> Response:
    return _answer(b"Not found\n", ".txt", 404)


def create_app(settings: Settings, out: Path = Path("out"), idle: dt.timedelta = IDLE_LIMIT,
               secure: bool = False,
               clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> Starlette:
    """The counter of a pharmacy (settings: its catalog and profile, read at start), writing
    fills to `out` and its ledger. `secure`: served over TLS (the cookie is then Secure)."""
    desk = Desk(settings, out)
    sessions = Sessions(idle)
    pages = Pages(idle)
    signed_out = f"You were signed out after {pages.idle_words} without use. Sign in again."
    # One thread does the library's work (desk.py says why); the event loop only waits for it.
    worker = ThreadPoolExecutor(1, thread_name_prefix="desk")
    worker.submit(desk.reconcile).result()
    # Sign-in has a thread of its own (an Argon2id check takes 64 MiB and a good fraction of a
    # second on purpose: it must not hold up previews and approvals), and a bound on the
    # sign-ins waiting for it.
    signer = ThreadPoolExecutor(1, thread_name_prefix="sign-in")
    waiting: list[str] = []
    users_file = users_path(desk.ledger_path)
    opened: list[Users] = []

    def check_password(name: str, password: str, at: dt.datetime) -> tuple[Outcome, User | None]:
        if not opened:                     # opened on the sign-in thread, used there only
            opened.append(Users(users_file))
        return opened[0].sign_in(name, password, at)
    base = str(base_path(desk.pharmacy)).rstrip("/")
    uploads = Uploads()
    working: set[asyncio.Task[None]] = set()        # the uploads being worked through

    async def on_desk(call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(worker, partial(call, *args))

    def show(request: Request, visit: Visit | None, name: str, status: int = 200,
             **context: Any) -> Response:
        html = pages.render(name, user=visit.user if visit else None,
                            csrf=visit.csrf if visit else "", path=request.url.path, **context)
        response = _answer(html.encode(), ".html", status)
        if visit is not None:
            _set_cookie(response, visit, secure)
        return response

    def to(url: str, request: Request, visit: Visit | None = None) -> Response:
        """Go to `url`: a redirect, or for htmx's requests its HX-Redirect."""
        if request.headers.get("hx-request"):
            response = _answer(b"", ".txt", 200, {"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303, headers=HEADERS)
        if visit is not None:
            _set_cookie(response, visit, secure)
        return response

    def guarded(*roles: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        """A page for signed-in users (of `roles`, if given); a POST must carry the CSRF token."""
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                visit, expired = sessions.find(request.cookies.get(COOKIE))
                if visit is None or visit.user is None:
                    if expired:
                        return to("/sign-in", request, sessions.start(signed_out))
                    return to("/sign-in", request)
                data = None
                if request.method == "POST":
                    upload = request.url.path == "/uploads"
                    data = await request.form(max_files=1 if upload else 0, max_fields=64,
                                              max_part_size=UPLOAD_BYTES if upload else FORM_BYTES)
                    if not visit.csrf_ok(_text(data, "csrf")):
                        return show(request, visit, "message.html.j2", 403, title="Refused",
                                    message="This form was refused: it did not carry this "
                                            "session's security token. Reload the page and "
                                            "try again.")
                if roles and visit.user.role not in roles:
                    role = visit.user.role
                    return show(request, visit, "message.html.j2", 403, title="Not allowed",
                                message=f"{'An' if role[0] in 'aeiou' else 'A'} {role} cannot "
                                        f"do this: it needs a {' or '.join(roles)}.")
                return await handler(request, visit, data)
            return endpoint
        return wrap

    # ---- sign-in ---------------------------------------------------------------------------
    async def sign_in_page(request: Request) -> Response:
        visit, expired = sessions.find(request.cookies.get(COOKIE))
        if visit is not None and visit.user is not None:
            return to("/", request, visit)
        if visit is None:
            visit = sessions.start(signed_out if expired else "")
        note, visit.note = visit.note, ""
        return show(request, visit, "sign_in.html.j2", note=note)

    async def sign_in(request: Request) -> Response:
        visit, _ = sessions.find(request.cookies.get(COOKIE))
        data = await request.form(max_files=0, max_fields=8)
        if visit is None or not visit.csrf_ok(_text(data, "csrf")):
            fresh = sessions.start()
            return show(request, fresh, "sign_in.html.j2", 403,
                        error="The sign-in form had expired. Try again.")
        name, password = _text(data, "name"), _text(data, "password")
        if len(waiting) >= MAX_SIGN_INS:
            return show(request, visit, "sign_in.html.j2", 503, typed=name,
                        error="The counter is busy signing people in. Try again in a moment.")
        waiting.append(name)
        try:
            outcome, user = await asyncio.get_running_loop().run_in_executor(
                signer, partial(check_password, name, password, clock()))
        finally:
            waiting.remove(name)
        if outcome is Outcome.SIGNED_IN and user is not None:
            LOG.info("signed in: %s (%s)", user.name, user.role)
            return to("/", request, sessions.sign_in(visit, user))
        if outcome is Outcome.LOCKED:
            LOG.info("sign-in refused: account locked")
            error = (f"This account is locked after {LOCK_AFTER} wrong passwords in a row. Wait "
                     f"{LOCK_FOR.total_seconds() / 60:g} minutes, or ask an administrator.")
        else:
            LOG.info("sign-in refused: wrong name or password")
            error = "Wrong name or password."
        return show(request, visit, "sign_in.html.j2", 401, error=error, typed=name)

    @guarded()
    async def sign_out(request: Request, visit: Visit, _: FormData | None) -> Response:
        sessions.end(visit.token)
        fresh = sessions.start("You are signed out.")
        return to("/sign-in", request, fresh)

    @guarded()
    async def home(request: Request, visit: Visit, _: FormData | None) -> Response:
        assert visit.user is not None
        if visit.user.role not in STAFF:
            return show(request, visit, "admin.html.j2")
        return to("/enter" if visit.user.role == "technician" else "/queue", request, visit)

    # ---- entering a fill --------------------------------------------------------------------
    async def enter_page(request: Request, visit: Visit, cells: dict[str, str],
                         entry_id: int | None = None, status: int = 200,
                         checked: form.Checked | None = None, submitted: bool = False
                         ) -> Response:
        products = await on_desk(desk.products)
        live = await _live(visit, cells, checked, submitted, entry_id)
        returned = await on_desk(desk.queue.get, entry_id) if entry_id else None
        return show(request, visit, "enter.html.j2", status, fields=form.FIELDS, cells=cells,
                    products=products, languages=pages.languages, entry_id=entry_id,
                    returned=returned, **live)

    async def _live(visit: Visit, cells: dict[str, str], checked: form.Checked | None,
                    submitted: bool, entry_id: int | None = None) -> dict[str, Any]:
        """What the form shows beside its fields: each field's problems (an empty field's only
        once submitted), the sig's reading, the BUD, and the previews."""
        assert visit.user is not None
        initials = visit.user.initials if visit.user.role == "pharmacist" else \
            form.PREVIEW_INITIALS
        if checked is None:
            if not any(cells.values()):
                return {"problems": {}, "checked": None, "previews": []}
            checked = await on_desk(desk.check, cells, initials, entry_id)
        shown = {name: messages for name, messages in checked.problems.items()
                 if submitted or (name and cells.get(name, "").strip())}
        previews = await on_desk(_previews, visit, checked) if checked.rendered else []
        return {"problems": shown, "checked": checked, "previews": previews}

    @guarded(*STAFF)
    async def enter_form(request: Request, visit: Visit, _: FormData | None) -> Response:
        return await enter_page(request, visit, {name: "" for name in form.NAMES})

    @guarded(*STAFF)
    async def enter_check(request: Request, visit: Visit, data: FormData | None) -> Response:
        assert data is not None
        cells = form.cells_of(_plain(data))
        live = await _live(visit, cells, None, False, _number(_text(data, "entry")))
        html = pages.render("_live.html.j2", fields=form.FIELDS, cells=cells, oob=True, **live)
        return _answer(html.encode(), ".html")

    @guarded(*STAFF)
    async def enter_submit(request: Request, visit: Visit, data: FormData | None) -> Response:
        assert data is not None and visit.user is not None
        cells = form.cells_of(_plain(data))
        entry_id = _number(_text(data, "entry"))
        try:
            made, checked = await on_desk(desk.enter, cells, visit.user, entry_id)
        except LeafletsError as err:
            return show(request, visit, "message.html.j2", 409, title="Not queued",
                        message=str(err))
        if made is None:
            return await enter_page(request, visit, cells, entry_id, 422, checked, True)
        LOG.info("entry %d queued by %s", made, visit.user.name)
        return to(f"/entries/{made}", request, visit)

    # ---- the queue and verification ---------------------------------------------------------
    @guarded(*STAFF)
    async def queue_page(request: Request, visit: Visit, _: FormData | None) -> Response:
        waiting = await on_desk(desk.queue.listed, "waiting", "approving")
        returned = await on_desk(desk.queue.listed, "returned")
        return show(request, visit, "queue.html.j2", waiting=waiting, returned=returned)

    @guarded(*STAFF)
    async def entry_page(request: Request, visit: Visit, _: FormData | None) -> Response:
        assert visit.user is not None
        entry_id = _number(request.path_params["entry"])
        if entry_id is None:
            return not_found()
        try:
            entry = await on_desk(desk.queue.get, entry_id)
        except InputError:
            return not_found()
        if entry.status == "returned":
            return await enter_page(request, visit, entry.cells, entry.id)
        live = await _live(visit, entry.cells, None, True, entry.id)
        return show(request, visit, "entry.html.j2", entry=entry, fields=form.FIELDS, **live)

    async def _entry_action(request: Request, visit: Visit,
                            act: Callable[[int], Any]) -> Response:
        """Approve or return an entry: one call on the desk, so nothing runs between reading
        the entry and acting on it."""
        entry_id = _number(request.path_params["entry"])
        if entry_id is None:
            return not_found()
        try:
            await on_desk(act, entry_id)
        except NoEntry:
            return not_found()
        except LeafletsError as err:
            return show(request, visit, "message.html.j2", 409, title="Not done",
                        message=str(err), back=f"/entries/{entry_id}")
        return to(f"/entries/{entry_id}", request, visit)

    @guarded("pharmacist")
    async def approve(request: Request, visit: Visit, data: FormData | None) -> Response:
        assert data is not None and visit.user is not None
        user, revision = visit.user, _number(_text(data, "revision")) or 0

        def act(entry_id: int) -> None:
            rendered = desk.approve(entry_id, revision, user)
            LOG.info("entry %d approved by %s: Rx %s", entry_id, user.name, rendered.key)
        return await _entry_action(request, visit, act)

    @guarded("pharmacist")
    async def give_back(request: Request, visit: Visit, data: FormData | None) -> Response:
        assert data is not None and visit.user is not None
        reason = _text(data, "reason").strip()
        if not reason:
            return show(request, visit, "message.html.j2", 422, title="Not returned",
                        message="Say why the entry goes back (the reason field).",
                        back=f"/entries/{request.path_params['entry']}")
        name = visit.user.name

        def act(entry_id: int) -> None:
            desk.queue.give_back(entry_id, name, now(), reason)
            LOG.info("entry %d returned by %s", entry_id, name)
        return await _entry_action(request, visit, act)

    # ---- fills: print, reprint, refill, find, recall ----------------------------------------
    @guarded(*STAFF)
    async def fill_page(request: Request, visit: Visit, _: FormData | None) -> Response:
        key = str(request.path_params["key"])
        try:
            rows = await on_desk(desk.fill_rows, key)
        except InputError:
            return not_found()
        return show(request, visit, "fill.html.j2", key=key, rows=rows,
                    history=pages.history_columns)

    @guarded(*STAFF)
    async def fill_document(request: Request, visit: Visit, _: FormData | None) -> Response:
        key, name = str(request.path_params["key"]), str(request.path_params["document"])
        if name not in ("label.pdf", "leaflet.pdf"):
            return not_found()
        try:
            data = await on_desk(desk.document, key, name)
        except LeafletsError:
            return not_found()
        return _answer(data, ".pdf", headers={
            "Content-Disposition": f'attachment; filename="{key}-{name}"'})

    @guarded(*STAFF)
    async def print_fill(request: Request, visit: Visit, data: FormData | None) -> Response:
        assert visit.user is not None
        key = str(request.path_params["key"])
        try:
            jobs = await on_desk(desk.print_fill, key, visit.user)
        except LeafletsError as err:
            return show(request, visit, "message.html.j2", 409, title="Not printed",
                        message=str(err), back=f"/fills/{key}")
        return show(request, visit, "printed.html.j2", key=key, jobs=jobs)

    @guarded(*STAFF)
    async def reprint_fill(request: Request, visit: Visit, data: FormData | None) -> Response:
        assert data is not None and visit.user is not None
        key, reason = str(request.path_params["key"]), _text(data, "reason").strip()
        if not reason:
            return show(request, visit, "message.html.j2", 422, title="Not reprinted",
                        message="Say why it is reprinted (the reason field).", back=f"/fills/{key}")
        try:
            done, jobs = await on_desk(desk.reprint, key, reason, visit.user)
        except LeafletsError as err:
            return show(request, visit, "message.html.j2", 409, title="Not reprinted",
                        message=str(err), back=f"/fills/{key}")
        return show(request, visit, "printed.html.j2", key=key, jobs=jobs, reprint=done.number)

    @guarded(*STAFF)
    async def refill(request: Request, visit: Visit, _: FormData | None) -> Response:
        key = str(request.path_params["key"])
        try:
            cells = await on_desk(desk.refill, key)
        except LeafletsError as err:
            return show(request, visit, "message.html.j2", 409, title="No refill",
                        message=str(err), back=f"/fills/{key}")
        return await enter_page(request, visit, cells)

    @guarded(*STAFF)
    async def find(request: Request, visit: Visit, _: FormData | None) -> Response:
        rx = request.query_params.get("rx", "").strip()
        rows = await on_desk(desk.history, rx) if rx else []
        keys = sorted({f"{r['rx_number']}-{r['fill_number']}" for r in rows if r["kind"] == "render"})
        return show(request, visit, "find.html.j2", rx=rx, rows=rows, keys=keys,
                    history=pages.history_columns)

    @guarded(*STAFF)
    async def recall(request: Request, visit: Visit, _: FormData | None) -> Response:
        lot = request.query_params.get("lot", "").strip()
        rows = await on_desk(desk.recall, lot) if lot else []
        return show(request, visit, "recall.html.j2", lot=lot, rows=rows,
                    recall=pages.recall_columns)

    # ---- a day's file, uploaded ------------------------------------------------------------
    @guarded(*STAFF)
    async def uploads_page(request: Request, visit: Visit, _: FormData | None) -> Response:
        return show(request, visit, "uploads.html.j2", uploads=uploads.listed())

    @guarded(*STAFF)
    async def upload(request: Request, visit: Visit, data: FormData | None) -> Response:
        assert data is not None and visit.user is not None
        file = data.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return show(request, visit, "message.html.j2", 422, title="Nothing uploaded",
                        message="Choose a file (CSV, JSON Lines, or a YAML or JSON list).",
                        back="/uploads")
        shown = Path(file.filename).name
        suffix = Path(shown).suffix.lower()
        if suffix not in BATCH_SUFFIXES:
            return show(request, visit, "message.html.j2", 422, title="Not uploaded",
                        message=f"{shown}: expected a .csv, .jsonl, .yaml or .json file",
                        back="/uploads")
        content = await file.read(MAX_BATCH_BYTES + 1)
        if len(content) > MAX_BATCH_BYTES:
            return show(request, visit, "message.html.j2", 413, title="Not uploaded",
                        message=f"{shown}: larger than {MAX_BATCH_BYTES >> 20} MiB",
                        back="/uploads")
        job = uploads.start(shown, visit.user.name)
        task = asyncio.create_task(_work(job, content, suffix, visit.user))
        working.add(task)
        task.add_done_callback(working.discard)
        return to(f"/uploads/{job.id}", request, visit)

    async def _work(job: Upload, content: bytes, suffix: str, user: User) -> None:
        """Row by row, each a task of its own on the desk's thread: other pages are served
        between two rows."""
        try:
            with tempfile.TemporaryDirectory(prefix="leaflets-upload-") as folder:
                path = Path(folder) / f"upload{suffix}"
                path.write_bytes(content)
                rows, problems = await on_desk(desk.read_upload, path, job.name)
                job.failed.extend(problems)
                job.total = len(rows)
                for row in rows:
                    queued, problems = await on_desk(desk.enter_row, row, user, path,
                                                     job.name)
                    job.done += 1
                    job.failed.extend(problems)
                    if queued is not None:
                        job.queued.append((row.source.first_line, *queued))
        except Exception as exc:        # never its message: it may quote a row
            LOG.error("upload stopped: unexpected %s", type(exc).__name__)
            job.failed.append(Problem(job.name, None, "", "the upload stopped on an unexpected "
                                      "error; the entries listed were queued"))
        finally:
            job.finished = True
            LOG.info("upload by %s: %d queued, %d problems", user.name, len(job.queued),
                     len(job.failed))

    @guarded(*STAFF)
    async def upload_page(request: Request, visit: Visit, _: FormData | None) -> Response:
        job = uploads.get(str(request.path_params["upload"]))
        if job is None:
            return not_found()
        fragment = request.headers.get("hx-request") is not None
        return show(request, visit, "_progress.html.j2" if fragment else "upload.html.j2",
                    job=job)

    # ---- previews, static files, monographs -------------------------------------------------
    def _previews(visit: Visit, checked: form.Checked) -> list[dict[str, Any]]:
        from .preview import previews
        assert checked.rendered is not None
        return [{"name": visit.keep_preview(p.png), "what": p.what, "width": p.width,
                 "height": p.height} for p in previews(checked.rendered.files)]

    @guarded(*STAFF)
    async def preview(request: Request, visit: Visit, _: FormData | None) -> Response:
        png = visit.previews.get(str(request.path_params["name"]))
        return _answer(png, ".png") if png is not None else not_found()

    async def static(request: Request) -> Response:
        name = str(request.path_params["name"])
        if name not in STATIC:
            return not_found()
        return _answer(STATIC[name].read_bytes(), Path(name).suffix,
                       headers={"Cache-Control": "no-cache"})

    def answer_monograph(request: Request) -> Response:
        """/monographs/<slug> (the page), /monographs/<slug>.pdf, /monographs/site.css. Only a
        product of the catalog is answered: the name is never used as a path. (A plain def:
        Starlette runs it in its thread pool, so rendering never blocks the event loop.)"""
        name = str(request.path_params["name"])
        if name == STYLESHEET:
            return _answer(stylesheet(), ".css")
        slug, pdf = (name[:-4], True) if name.endswith(".pdf") else (name, False)
        if slug not in product_slugs(desk.settings.catalog):
            return not_found()
        try:
            product, document = monograph(desk.settings, desk.pharmacy, slug)
        except InputError:
            return not_found()
        if pdf:
            return _answer(render_monograph(product, desk.pharmacy, document), ".pdf")
        return _answer(page(desk.pharmacy, product, document), ".html")

    routes = [
        Route("/static/{name}", static),
        Route("/sign-in", sign_in_page, methods=["GET"]),
        Route("/sign-in", sign_in, methods=["POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/", home),
        Route("/enter", enter_form, methods=["GET"]),
        Route("/enter", enter_submit, methods=["POST"]),
        Route("/enter/check", enter_check, methods=["POST"]),
        Route("/queue", queue_page),
        Route("/entries/{entry}", entry_page),
        Route("/entries/{entry}/approve", approve, methods=["POST"]),
        Route("/entries/{entry}/return", give_back, methods=["POST"]),
        Route("/fills/{key}", fill_page),
        Route("/fills/{key}/print", print_fill, methods=["POST"]),
        Route("/fills/{key}/reprint", reprint_fill, methods=["POST"]),
        Route("/fills/{key}/refill", refill),
        Route("/fills/{key}/{document}", fill_document),
        Route("/find", find),
        Route("/recall", recall),
        Route("/preview/{name}.png", preview),
        Route("/uploads", uploads_page, methods=["GET"]),
        Route("/uploads", upload, methods=["POST"]),
        Route("/uploads/{upload}", upload_page),
        # Last, so that a profile whose monograph URL has no path of its own cannot hide a
        # counter page; <slug>/ too: a static host's spelling of the same page (leaflets site).
        Route(f"{base}/{{name}}", answer_monograph), Route(f"{base}/{{name}}/", answer_monograph),
    ]
    return Starlette(routes=routes, middleware=[Middleware(_Edge, secure=secure)],
                     exception_handlers={HTTPException: _http_error})


def _set_cookie(response: Response, visit: Visit, secure: bool) -> None:
    response.set_cookie(COOKIE, visit.token, httponly=True, samesite="strict", secure=secure,
                        path="/")


def _text(data: FormData, name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _plain(data: FormData) -> dict[str, str]:
    return {name: value for name, value in data.items() if isinstance(value, str)}


def _number(text: Any) -> int | None:
    text = str(text)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such page, a method a page does not take, a form it cannot
    parse) under the same headers as every page: 404 for the first two."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status in (404, 405):
        return not_found()
    return _answer(f"{status} {HTTPStatus(status).phrase}\n".encode(), ".txt", status)


class _BodyTooLarge(Exception):
    pass


class _Edge:
    """What every request passes first:
    - a bound on its body, before anything reads it: a form is small (FORM_BYTES); only an
      upload of a day's file is larger (MAX_BATCH_BYTES and its form around it);
    - under TLS, Strict-Transport-Security on every response (hipaa-technical-safeguards.md:
      transmission security);
    - an unexpected error logged by its type and path only, never its message or traceback
      (either may quote what was typed: patient data), and answered with a plain 500.
      (Starlette's own error middleware re-raises to the server, which logs the traceback.)"""

    def __init__(self, app: ASGIApp, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = UPLOAD_BYTES if scope.get("path") == "/uploads" else FORM_BYTES
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > limit:
            await _answer(b"Too large.\n", ".txt", 413)(scope, receive, send)
            return
        started, seen = False, 0

        async def receiving() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if self.secure:
                    message["headers"] = [*message.get("headers", []),
                                          (b"strict-transport-security", HSTS)]
            await send(message)
        try:
            await self.app(scope, receiving, sending)
        except _BodyTooLarge:
            if not started:
                await _answer(b"Too large.\n", ".txt", 413)(scope, receive, sending)
        except Exception as exc:
            LOG.error("unexpected %s on %s %s", type(exc).__name__, scope.get("method", ""),
                      scope.get("path", ""))
            if not started:
                response = _answer(b"Something went wrong. Nothing more was done.\n", ".txt", 500)
                await response(scope, receive, sending)
