"""The `leaflets` command line. A LeafletsError becomes `Error: ...` on stderr and its exit code;
anything else is a bug and keeps its traceback."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import InputError, LeafletsError, Problem

# Each command imports the stages it runs, inside the command: building the command table (and
# `leaflets --help`) must not import the rendering stack, and `sig` needs only the sig rules and
# the directions template (benchmarks/render.py times each).
if TYPE_CHECKING:
    from .batch import Outcome, Report


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LeafletsError as exc:
            for line in str(exc).splitlines():
                click.echo(f"Error: {line}", err=True)
            ctx.exit(exc.exit_code)


class _Choice(click.Choice[str]):
    """A choice among values from the project's data (the language table, a model's vocabulary),
    read when the option is parsed or its help is shown, not when the command table is built."""

    def __init__(self, values: Callable[[], Iterable[str]]) -> None:
        self._values = values
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._values())

    @choices.setter
    def choices(self, _: Sequence[str]) -> None:
        """click.Choice assigns its choices on creation; these are read when needed instead."""


def _counting_values() -> list[str]:
    from .models import BudCounting
    return [c.value for c in BudCounting]


def _language_codes() -> list[str]:
    from .i18n import languages
    return sorted(languages())


replace_option = click.option(
    "--replace", is_flag=True,
    help="Replace a rendered fill whose record names another patient, product, directions or "
         "lot (same Rx and fill number); without it such a fill is refused.")
ledger_option = click.option(
    "--ledger", type=click.Path(path_type=Path), default=None,
    help="The dispensing record, a SQLite file [default: the pharmacy profile's ledger:, else "
         "ledger.sqlite beside the out folder].")
user_option = click.option(
    "--user", default=None, help="Who renders, for the ledger [default: the OS user name].")
large_print_option = click.option(
    "--large-print", is_flag=True,
    help="Every fill in large print (as patient.large_print): the pharmacy's large_print_stock, "
         "whatever --stock says, and the large-print leaflet.")


def _in_project(name: str) -> Any:
    """A default path, found the way git finds its root: in the nearest folder, from here up,
    that holds pharmacy.yaml (as a relative path, so records name it as before)."""
    def resolve(_: Any, __: Any, value: Path | None) -> Path:
        if value is not None:
            return value
        here = Path.cwd()
        for folder in (here, *here.parents):
            if (folder / "pharmacy.yaml").is_file():
                return Path(os.path.relpath(folder / name, here))
        return Path(name)      # not found anywhere: the loader says where it looked
    return resolve


catalog_option = click.option("--catalog", type=click.Path(path_type=Path), default=None,
                              callback=_in_project("products"),
                              help="Folder of product YAML files [default: products/ of the "
                                   "project: this folder or the nearest above with pharmacy.yaml].")
pharmacy_option = click.option("--pharmacy", type=click.Path(path_type=Path), default=None,
                               callback=_in_project("pharmacy.yaml"),
                               help="The pharmacy profile [default: the project's pharmacy.yaml].")
warnings_option = click.option("--warnings", "warning_catalog", type=click.Path(path_type=Path),
                               default=None, callback=_in_project("warnings.yaml"),
                               help="The pharmacy's auxiliary warning catalog [default: the "
                                    "project's warnings.yaml].")


@click.group(cls=_Group)
@click.version_option(package_name="leaflets")
def main() -> None:
    """Prescription labels, patient leaflets and monographs for a compounding pharmacy."""


@main.command()
@click.argument("fill", type=click.Path(path_type=Path))
@catalog_option
@pharmacy_option
@warnings_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("out"), show_default=True)
@click.option("--stock", default=None, help="Label stock name (default: the pharmacy's).")
@large_print_option
@replace_option
@ledger_option
@user_option
@click.option("--correct", "correction", metavar="REASON", default=None,
              help="This fill corrects the one the ledger has under its Rx and fill number "
                   "(another patient, product, lot or directions): why. Recorded; the label "
                   "and leaflet print CORRECTED.")
def render(fill: Path, catalog: Path, pharmacy: Path, warning_catalog: Path, out: Path,
           stock: str | None, large_print: bool, replace: bool, ledger: Path | None,
           user: str | None, correction: str | None) -> None:
    """Render one fill (YAML or JSON) to out/<rx>-<fill>/label.pdf, leaflet.pdf and fill.json,
    published together (the previous set stays until the new one is whole), and append a row
    to the ledger. A fill the ledger has for another patient, product, lot or directions is
    refused unless --correct says why."""
    from .pipeline import Settings, prepare_fill
    from .record.stage import check_ledger, publish
    if correction is not None and not correction.strip():
        raise click.BadParameter("say why this fill corrects the earlier one",
                                 param_hint="--correct")
    settings = Settings(catalog, pharmacy, stock, large_print, replace, ledger, user or "",
                        correct=(correction or "").strip(), warning_catalog=warning_catalog)
    settings = dataclasses.replace(settings, ledger=check_ledger(settings, out))
    rendered = prepare_fill(fill, settings)
    directory = publish(rendered, out, settings)
    for warning in rendered.warnings:
        click.echo(f"Warning: Rx {rendered.key}: {warning}", err=True)
    for name in rendered.files:
        click.echo(str(directory / name))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:       # not on Linux
        return os.cpu_count() or 1


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@catalog_option
@pharmacy_option
@warnings_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("out"), show_default=True)
@click.option("--stock", default=None, help="Label stock name (default: the pharmacy's).")
@large_print_option
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: this machine's cores). Output is identical for any count.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no per-fill lines.")
@replace_option
@ledger_option
@user_option
def batch(inputs: tuple[Path, ...], catalog: Path, pharmacy: Path, warning_catalog: Path,
          out: Path, stock: str | None, large_print: bool, workers: int | None, quiet: bool,
          replace: bool, ledger: Path | None, user: str | None) -> None:
    """Render a day's fills from INPUTS (CSV, a YAML list, a JSON array, JSON Lines, or a folder
    of fill files) and write the combined sheets to <out>/batches/<batch-id>/.

    Exit 0 when every fill rendered, 1 when some failed (listed on stderr at the end) or an
    output cannot be written, 2 when an input cannot be read, 130, 143 or 129 when stopped by
    Ctrl-C, SIGTERM or SIGHUP. Running the same command again resumes: complete fills are
    skipped. --quiet prints only the failures."""
    from .batch import run_batch
    from .pipeline import Settings
    from .record.stage import check_ledger
    settings = Settings(catalog, pharmacy, stock, large_print, replace, ledger, user or "",
                        warning_catalog=warning_catalog)
    settings = dataclasses.replace(settings, ledger=check_ledger(settings, out))
    with _progress(quiet) as report:
        result = run_batch(list(inputs), settings, out, workers=workers or _cores(), report=report)
    for outcome in result.failed:
        for line in (outcome.error or "failed").splitlines():
            click.echo(f"Failed: {line}", err=True)
    if not quiet:
        click.echo(f"Batch {result.batch_id}: {result.total - len(result.failed)} of "
                   f"{result.total} fills ok ({result.rendered} rendered, {result.skipped} already "
                   f"complete), {len(result.failed)} failed")
        for path in result.written:
            click.echo(str(path))
    if result.failed:
        sys.exit(1)


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Report | None]:
    """A progress bar with rate and ETA on a terminal; one plain line per fill otherwise."""
    if quiet:
        yield None
        return
    if not sys.stdout.isatty():
        def log(outcome: Outcome, total: int) -> None:
            what = outcome.key or "-"
            detail = f": {outcome.error.splitlines()[0]}" if outcome.error else ""
            detail += "".join(f" (warning: {w})" for w in outcome.warnings)
            click.echo(f"[{outcome.index}/{total}] {outcome.where} {what} {outcome.status}{detail}")
        yield log
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
    # Started at the first result, after the worker processes are forked: rich refreshes from a
    # thread, and a fork must not copy a process that has one.
    bar = Progress(*columns, transient=False)
    task = bar.add_task("Fills", total=None, rate="")

    def advance(outcome: Outcome, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        speed = bar.tasks[0].speed
        bar.update(task, total=total, advance=1, rate=f"{speed:.0f} fills/s" if speed else "")
        if outcome.status == "failed":
            bar.console.print(f"failed: {outcome.where}", markup=False, highlight=False)
    try:
        yield advance
    finally:
        bar.stop()


@main.command()
@click.argument("actual", type=click.Path(path_type=Path))
@click.argument("expected", type=click.Path(path_type=Path), required=False)
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help="Write report.json and an overlay PNG per changed page here.")
@click.option("--dpi", type=click.IntRange(36, 600), default=100, show_default=True,
              help="Resolution of the pixel comparison.")
@click.option("--max-pixels", type=click.IntRange(min=0), default=0, show_default=True,
              help="Changed pixels a page may have and still pass (never inside a safety field).")
@click.option("--max-page-pixels", type=click.IntRange(min=1), default=50_000_000, show_default=True,
              help="Refuse a page with more pixels than this at --dpi (a Letter page at 600 dpi "
                   "has 33.7 million), before rasterising anything.")
@click.option("--max-pages", type=click.IntRange(min=1), default=5_000, show_default=True,
              help="Refuse a document with more pages than this, before rasterising anything.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--check", is_flag=True,
              help="Check the fills in the ACTUAL tree on their own (codes, sizes, bounds, words).")
def qa(actual: Path, expected: Path | None, report: Path | None, dpi: int, max_pixels: int,
       max_page_pixels: int, max_pages: int, as_json: bool, check: bool) -> None:
    """Compare ACTUAL with EXPECTED: two PDFs, or two output trees matched by relative path;
    or, with --check and no EXPECTED, check each fill in the ACTUAL tree on its own.

    Exit 0 when everything matches (or differs only within --max-pixels) and every check
    passes, 1 when anything differs, fails a check or is unreadable in a tree, 2 when an input
    cannot be read at all (a PDF given on its own that is missing, not a PDF, truncated or
    damaged) or a document is beyond --max-page-pixels or --max-pages."""
    from .qa import Limits, QaResult, check_tree, compare, shown
    limits = Limits(max_page_pixels=max_page_pixels, max_pages=max_pages)
    if expected is None:
        if not check:
            raise click.UsageError("give EXPECTED to compare with, or --check to check ACTUAL alone")
        result = QaResult([], check_tree(actual, limits=limits))
    else:
        result = compare(actual, expected, dpi=dpi, max_pixels=max_pixels, report=report,
                         limits=limits)
    data = result.to_json()
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for doc in result.documents:
            if doc.status == "identical":
                continue
            click.echo(f"{doc.path or shown(str(actual))}: {doc.status}")
            if doc.problem:
                click.echo(f"  {doc.problem}")
            for change in doc.fields:
                click.echo(f"  {change.field}: {change.old!r} → {change.new!r}"
                           + (f" ({change.pixels} pixels)" if change.old == change.new else ""))
            for diff in doc.diffs:
                where = ""
                if diff.region_pt:
                    x, y, w, h = diff.region_pt
                    where = f" at x {x:g}, y {y:g} pt from the top ({w:g} × {h:g} pt)"
                click.echo(f"  page {diff.page}: {diff.pixels} pixels changed{where}"
                           + (f"; overlay {report / diff.overlay}" if report and diff.overlay else ""))
                if diff.size_pt:
                    (aw, ah), (ew, eh) = diff.size_pt
                    click.echo(f"    page size {aw:g} × {ah:g} pt, expected {ew:g} × {eh:g} pt")
                for line in diff.text:
                    if line.startswith("~"):
                        click.echo(f"    {line[1:]}")
            for key, (new, old) in doc.metadata.items():
                click.echo(f"  metadata {key}: {old!r} → {new!r}")
        for problem in result.checks:
            click.echo(f"{problem.path}: {problem.check}: {problem.message}")
        if result.documents:
            counts = ", ".join(f"{n} {status}" for status, n in sorted(data["counts"].items()))
            documents = "document" if len(result.documents) == 1 else "documents"
            click.echo(f"QA: {len(result.documents)} {documents}: {counts}")
        if check or result.checks:
            click.echo(f"Checks: {len(result.checks)} problem{'' if len(result.checks) == 1 else 's'}")
    if not result.ok:
        sys.exit(1)


@main.command()
@catalog_option
@pharmacy_option
@warnings_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="Where approved fills are written, as `leaflets render --out`.")
@ledger_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; other than loopback only with --cert and --key.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--cert", type=click.Path(path_type=Path), default=None, help="TLS certificate (PEM).")
@click.option("--key", type=click.Path(path_type=Path), default=None, help="TLS private key (PEM).")
@click.option("--idle-minutes", type=click.FloatRange(0.01, 15), default=15, show_default=True,
              help="Sign a user out after this long without use (15 minutes at most).")
def serve(catalog: Path, pharmacy: Path, warning_catalog: Path, out: Path, ledger: Path | None,
          host: str, port: int, cert: Path | None, key: Path | None, idle_minutes: float) -> None:
    """The counter: technicians enter fills, pharmacists verify them, labels print; and the
    monograph pages every label's QR code opens (/monographs/<slug>), without sign-in. Sign in
    with a user made by `leaflets users add`."""
    from .counter.server import serve as run
    from .pipeline import Settings
    settings = Settings(catalog, pharmacy, ledger=ledger, warning_catalog=warning_catalog)
    run(settings, out, host, port, cert, key, dt.timedelta(minutes=idle_minutes))


@main.command()
@catalog_option
@pharmacy_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/site"),
              show_default=True)
def site(catalog: Path, pharmacy: Path, out: Path) -> None:
    """Every product's monograph as a web page (and its PDF), as static files at the paths the
    labels' QR codes name, for a pharmacy that hosts them itself."""
    from .pipeline import Settings
    from .site.build import build_site
    for path in build_site(Settings(catalog, pharmacy), out):
        click.echo(str(path))


@main.command()
@catalog_option
@pharmacy_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/monographs"),
              show_default=True)
def monographs(catalog: Path, pharmacy: Path, out: Path) -> None:
    """Write the full monograph of every product to <out>/<slug>.pdf."""
    from .pipeline import Settings, render_monographs
    for path in render_monographs(Settings(catalog, pharmacy), out):
        click.echo(str(path))


@main.command()
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def products(catalog: Path, as_json: bool) -> None:
    """List the product catalog."""
    from .load import product_slugs
    from .pipeline import load_product_checked
    from .rules.abbreviations import normalise_units
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for slug in product_slugs(catalog):
        try:
            p = load_product_checked(catalog, slug).model
        except InputError as err:
            problems.extend(err.problems)
            continue
        rows.append({"slug": p.slug, "name": normalise_units(p.name),
                     "strength": normalise_units(p.strength),
                     "dosage_form": p.form_name, "route": p.route.value,
                     "bud_category": p.bud.category.value, "storage": p.storage.condition.value,
                     "schedule": p.controlled_substance.schedule.value if p.controlled_substance else None,
                     "example": p.example})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            extra = f"  C-{r['schedule']}" if r["schedule"] else ""
            extra += "  (example)" if r["example"] else ""
            click.echo(f"{r['slug']:<36} {r['name']}  [{r['bud_category']}, {r['storage']}]{extra}")
    if problems:
        raise InputError(problems)


def _existing_ledger(path: Path | None, pharmacy: Path | None = None,
                     out: Path = Path("out")) -> Any:
    """The ledger to read, found as `render` finds the one it writes: --ledger, else the
    profile's `ledger:`, else ledger.sqlite beside the out folder. A ledger that is not
    there is an error, not a new empty one."""
    from .record.ledger import LedgerError, open_ledger
    from .record.location import find_ledger
    path = find_ledger(path, pharmacy, out)
    if not path.is_file():
        raise LedgerError(f"ledger {path}: no such file (--ledger or the pharmacy profile's "
                          "ledger: names it)")
    return open_ledger(path)


def _profile_if_any(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """--pharmacy if given, else the project's pharmacy.yaml if there is one: reading a ledger
    outside any project needs no profile."""
    found: Path = _in_project("pharmacy.yaml")(ctx, param, value)
    return found if value is not None or found.is_file() else None


read_ledger_option = click.option(
    "--ledger", type=click.Path(path_type=Path), default=None,
    help="The ledger [default: the pharmacy profile's ledger:, else ledger.sqlite beside out/, "
         "that is ./ledger.sqlite].")
read_pharmacy_option = click.option(
    "--pharmacy", type=click.Path(path_type=Path), default=None, callback=_profile_if_any,
    help="The pharmacy profile whose ledger: names the ledger [default: the project's "
         "pharmacy.yaml, if any].")
csv_option = click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")


@main.group()
def ledger() -> None:
    """The dispensing record (ledger.sqlite): every fill rendered, hash-chained."""


@ledger.command()
@read_ledger_option
@read_pharmacy_option
@click.option("--anchor", metavar="ID:HASH", default=None,
              help="A head written down earlier (verify prints it): row ID must still be there "
                   "with that hash, so rows deleted from the end since are found.")
def verify(ledger: Path | None, pharmacy: Path | None, anchor: str | None) -> None:
    """Check the hash chain: exit 0 if every row is whole and in order, 1 naming the first row
    that was edited, or follows a deleted or reordered one. The chain alone cannot show that
    its newest rows were deleted: keep the head it prints somewhere else, and give it back
    with --anchor."""
    with _existing_ledger(ledger, pharmacy) as opened:
        broken = opened.verify()
        if broken is None and anchor is not None:
            broken = opened.check_anchor(anchor)
        if broken is not None:
            click.echo(f"ledger {opened.path}: row {broken.id} {broken.reason}", err=True)
            sys.exit(1)
        rows = opened.count()
        head = opened.head()
        click.echo(f"ledger ok: {rows} {'row' if rows == 1 else 'rows'} (schema version "
                   f"{opened.version()})" + (f"; head {head[0]}:{head[1]}" if head else ""))


@main.command()
@click.argument("rx")
@read_ledger_option
@read_pharmacy_option
@csv_option
def history(rx: str, ledger: Path | None, pharmacy: Path | None, as_csv: bool) -> None:
    """Every fill of prescription RX in the ledger, oldest first."""
    from .record.table import HISTORY, csv_table, text_table
    with _existing_ledger(ledger, pharmacy) as opened:
        rows = opened.history(rx)
    click.echo(csv_table(HISTORY, rows) if as_csv else text_table(HISTORY, rows), nl=not as_csv)


@main.command()
@click.argument("lot")
@read_ledger_option
@read_pharmacy_option
@csv_option
def recall(lot: str, ledger: Path | None, pharmacy: Path | None, as_csv: bool) -> None:
    """Every fill of compounded LOT: patient, date of birth, Rx, fill date, BUD, printed when and
    by whom."""
    from .record.table import RECALL, csv_table, per_fill, text_table
    with _existing_ledger(ledger, pharmacy) as opened:
        rows = per_fill(opened.recall(lot))
    click.echo(csv_table(RECALL, rows) if as_csv else text_table(RECALL, rows), nl=not as_csv)


def _print_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options of `print` and `reprint`: where the documents go, and how."""
    for option in reversed((
        click.option("--labels", default=None, help="CUPS queue of the label printer "
                     "[default: printers.labels of the pharmacy profile]."),
        click.option("--documents", default=None, help="CUPS queue of the document printer, "
                     "for leaflets, duplex [default: printers.documents of the pharmacy profile]."),
        click.option("--copies", type=click.IntRange(1, 99), default=1, show_default=True),
        click.option("--format", "format_", type=click.Choice(["pdf", "zpl"]), default="pdf",
                     show_default=True,
                     help="The label as PDF, or as ZPL for a Zebra printer (a raw job)."),
        click.option("--zpl-to", default=None, metavar="HOST[:PORT]",
                     help="Send the ZPL label straight to a printer's TCP port (9100 by default) "
                          "instead of the labels queue."),
        click.option("--dpi", type=click.Choice(["203", "300"]), default=None,
                     help="The thermal printhead's dots per inch for ZPL [default: "
                          "printers.label_dpi of the pharmacy profile, else 203]."))):
        command = option(command)
    return command


def _print_request(target: str, out: Path, pharmacy: Path, user: str | None,
                   how: dict[str, Any]) -> Any:
    """What `leaflets print` is asked to do: the queues from the options or the profile."""
    from .load import load_pharmacy
    from .models import Printers
    from .printing.send import Request
    from .printing.socket9100 import parse_address
    from .record.stage import now, os_user
    labels, documents, zpl_to, dpi = how["labels"], how["documents"], how["zpl_to"], how["dpi"]
    if zpl_to and how["format_"] != "zpl":
        raise click.UsageError("--zpl-to sends ZPL: give --format zpl too")
    printers = (load_pharmacy(pharmacy).model.printers if pharmacy.is_file() or not (labels and documents)
                else Printers())
    return Request(target, out, labels or printers.labels, documents or printers.documents,
                   how["copies"], how["format_"], parse_address(zpl_to) if zpl_to else None,
                   int(dpi) if dpi else printers.label_dpi, user or os_user(), now)


def _send(request: Any, ledger: Any) -> None:
    """Print a fill, reprint or batch as `leaflets print` does, and say what was sent."""
    from .printing.send import print_target
    for job in print_target(request, ledger):
        copies_text = f"{job.copies} {'copy' if job.copies == 1 else 'copies'}"
        click.echo(f"{job.document} ({job.format}) → {job.destination}: job {job.job}, {copies_text}")


@main.command()
@click.argument("key", metavar="RX-FILL")
@click.option("--reason", required=True, help="Why it is reprinted (recorded in the ledger).")
@catalog_option
@pharmacy_option
@warnings_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("out"), show_default=True)
@read_ledger_option
@user_option
@_print_options
@click.option("--no-print", is_flag=True, help="Make the reprint's files only; print them "
              "later with `leaflets print RX-FILL-rN`.")
def reprint(key: str, reason: str, catalog: Path, pharmacy: Path, warning_catalog: Path, out: Path,
            ledger: Path | None, user: str | None, no_print: bool, **how: Any) -> None:
    """Make fill RX-FILL's label and leaflet again from the ledger's record, as printed but
    marked REPRINT n, to out/reprints/RX-FILL-rN/, and print them as `leaflets print` does;
    the reason and count go into the ledger."""
    from .pipeline import Settings
    from .record.reprint import reprint as make_reprint
    if not reason.strip():
        raise click.BadParameter("say why it is reprinted", param_hint="--reason")
    settings = Settings(catalog, pharmacy, ledger=ledger, user=user or "",
                        warning_catalog=warning_catalog)
    request = None
    if not no_print:       # the queues first: a reprint that cannot print is not made
        from .printing.send import check_queues
        request = _print_request(key, out, pharmacy, user, how)
        check_queues(request)
    with _existing_ledger(ledger, pharmacy if pharmacy.is_file() else None, out) as opened:
        done = make_reprint(opened, key, reason.strip(), settings, out)
        click.echo(f"Rx {key}: reprint {done.number} (ledger row {done.row['id']})", err=True)
        for name in done.rendered.files:
            click.echo(str(done.directory / name))
        if request is not None:
            _send(dataclasses.replace(request, target=done.directory.name), opened)


@main.command("print")
@click.argument("target")
@click.option("--out", type=click.Path(path_type=Path), default=Path("out"), show_default=True)
@pharmacy_option
@_print_options
@read_ledger_option
@click.option("--user", default=None, help="Who prints, for the ledger [default: the OS user name].")
def print_(target: str, out: Path, pharmacy: Path, ledger: Path | None, user: str | None,
           **how: Any) -> None:
    """Print TARGET, a fill (RX-FILL, e.g. 600123-0: its label and leaflet), a reprint
    (RX-FILL-rN, from `leaflets reprint`) or a batch (BATCH-ID: its combined sheets), after
    checking each document against its record and the ledger. The label prints at 100 % on its
    stock, the leaflet duplex; each job appends a "print" row to the ledger. A queue that is
    missing, stopped or rejecting jobs is an error naming it, and nothing is printed."""
    request = _print_request(target, out, pharmacy, user, how)
    with _existing_ledger(ledger, pharmacy if pharmacy.is_file() else None, out) as opened:
        _send(request, opened)


def _dates(reader: str) -> Any:
    """A click callback reading one date or several with a model's reader (models.day or
    models.expiry), imported only when the option is used."""
    def callback(_: Any, param: click.Parameter, value: Any) -> Any:
        from . import models
        parse = getattr(models, reader)

        def one(text: str) -> dt.date:
            try:
                day: dt.date = parse(text)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param=param) from None
            return day
        return tuple(one(v) for v in value) if isinstance(value, tuple) else one(value)
    return callback


@main.command()
@click.argument("product")
@click.option("--compounded", required=True, callback=_dates("day"),
              help="Compounding date YYYY-MM-DD (a day: only expiries may be months).")
@click.option("--component-expiry", multiple=True, callback=_dates("expiry"),
              help="A component's expiry, YYYY-MM-DD or YYYY-MM (repeatable).")
@click.option("--counting", type=_Choice(_counting_values), default=None,
              help="Day counting (default: the pharmacy profile's).")
@catalog_option
@pharmacy_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bud(product: str, compounded: dt.date, component_expiry: tuple[dt.date, ...],
        counting: str | None, catalog: Path, pharmacy: Path, as_json: bool) -> None:
    """Print the USP <795> beyond-use date of PRODUCT compounded on a date."""
    from .load import load_pharmacy, load_product
    from .models import BudCounting
    from .rules.bud import product_bud
    p = load_product(catalog, product).model
    how = BudCounting(counting) if counting else load_pharmacy(pharmacy).model.bud_counting
    expiries = component_expiry or (dt.date.max,)
    result = product_bud(p.bud, compounded, expiries, how)
    if not component_expiry:
        click.echo("Warning: no --component-expiry given; the BUD is not capped by any "
                   "component's expiry", err=True)
    if as_json:
        click.echo(json.dumps({"product": p.slug, "compounded_on": compounded.isoformat(),
                               "bud": result.date.isoformat(), "days": result.days,
                               "counting": result.counting.value,
                               "capped_by_expiry": result.capped_by_expiry,
                               "reason": result.reason}, indent=2))
    else:
        click.echo(f"{result.date.isoformat()}  ({result.reason})")


@main.command()
@click.argument("text")
@click.option("--product", default=None, help="Check the directions against this product.")
@click.option("--language", type=_Choice(_language_codes), default="en",
              show_default=True, help="Print the directions in this language.")
@click.option("--verbatim", is_flag=True,
              help="Check the text as directions a pharmacist approved as written "
                   "(a fill's directions_verbatim), where the grammar does not read it.")
@click.option("--explain", is_flag=True,
              help="Show how each word was read (words, slot, value) and, for a refusal, where "
                   "reading stopped, why, and a rewrite where a safe one exists.")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sig(text: str, product: str | None, language: str, verbatim: bool, explain: bool,
        catalog: Path, as_json: bool) -> None:
    """Expand a sig (or check approved plain directions) into the words printed on the label."""
    from .compose import render_directions
    from .load import load_product
    from .rules.sig import Context, Sig, parse_directions
    p = load_product(catalog, product).model if product else None
    if explain:
        _explain_sig(text, Context.of(p) if p else None, language, verbatim, as_json)
        return
    directions = parse_directions(text, Context.of(p) if p else None, verbatim=verbatim)
    printed = render_directions(directions, language)
    if as_json:
        structure = (json.loads(json.dumps(dataclasses.asdict(directions), default=str))
                     if isinstance(directions, Sig) else None)
        click.echo(json.dumps({"input": text, "printed": printed, "language": language,
                               "kind": "sig" if structure else "plain",
                               "structure": structure}, indent=2, ensure_ascii=False))
    else:
        click.echo(printed)


def _explain_sig(text: str, context: Any, language: str, verbatim: bool, as_json: bool) -> None:
    """`leaflets sig --explain`: the reading as a table (or JSON), then the printed directions,
    or where reading stopped and a suggested rewrite; a refusal still exits 2 with its message
    on stderr, as `leaflets sig`."""
    from .compose import render_directions
    from .errors import SafetyError
    from .rules.sig import FIELD, Sig, parse_directions
    from .rules.sig.explain import explain
    found = explain(text, context, verbatim=verbatim)
    printed = (render_directions(found.directions, language)
               if found.directions is not None else None)
    suggested = (render_directions(parse_directions(found.suggestion, context), language)
                 if found.suggestion is not None else None)
    if as_json:
        structure = (json.loads(json.dumps(dataclasses.asdict(found.directions), default=str))
                     if isinstance(found.directions, Sig) else None)
        stop = found.stop
        click.echo(json.dumps({
            "input": text, "text": found.text, "language": language,
            "tokens": list(found.tokens),
            "readings": [{"words": r.words, "slot": r.slot, "value": r.value, "step": r.step,
                          "tokens": [r.start, r.end], "at": list(r.at)}
                         for r in found.readings],
            "accepted": found.directions is not None,
            "kind": (None if found.directions is None
                     else "sig" if isinstance(found.directions, Sig) else "plain"),
            "printed": printed, "structure": structure, "message": found.message,
            "stop": None if stop is None else {
                "words": stop.words, "step": stop.step,
                "tokens": None if stop.start is None else [stop.start, stop.end],
                "at": None if stop.at is None else list(stop.at)},
            "suggestion": None if found.suggestion is None else {
                "text": found.suggestion, "printed": suggested},
        }, indent=2, ensure_ascii=False))
    else:
        rows = [("words", "slot", "value")]
        last = None
        for r in found.readings:        # a group that set two slots names its words once
            rows.append(("" if (r.start, r.end) == last else r.words, r.slot or "-",
                         r.value or "read; sets nothing"))
            last = (r.start, r.end)
        widths = [max(len(row[k]) for row in rows) for k in (0, 1)]
        for words, slot, value in rows:
            click.echo(f"{words:<{widths[0]}}  {slot:<{widths[1]}}  {value}".rstrip())
        click.echo()
        if found.stop is not None:
            stop = found.stop
            if stop.start is not None:
                assert stop.at is not None
                click.echo(f"Reading stopped at '{stop.words}':")
                click.echo(f"  {found.text}")
                click.echo(f"  {' ' * stop.at[0]}{'^' * (stop.at[1] - stop.at[0])}")
            elif stop.step is not None:
                click.echo(f"Reading stopped at the end of step {stop.step}: each of its words "
                           "was read, and the step as a whole is refused.")
            else:
                click.echo("Reading stopped after every step was read: the steps together are "
                           "refused.")
        if printed is not None:
            click.echo(printed)
        if found.suggestion is not None:
            click.echo(f"Suggested rewrite: {found.suggestion}")
            click.echo(f"  which reads: {suggested}")
    if found.message is not None:
        raise SafetyError(FIELD, found.message)


@main.group()
def users() -> None:
    """The counter's people: technicians, pharmacists and admins (users.sqlite beside the
    ledger)."""


users_option = click.option(
    "--users", "users_file", type=click.Path(path_type=Path), default=None,
    help="The users file [default: users.sqlite beside the ledger].")


def _users_file(users_file: Path | None, pharmacy: Path | None) -> Path:
    from .counter.users import users_path
    from .record.location import find_ledger
    return users_file or users_path(find_ledger(None, pharmacy, Path("out")))


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["technician", "pharmacist", "admin"]), required=True)
@click.option("--initials", required=True, help="As they print on a label (2 to 4 capitals).")
@users_option
@read_pharmacy_option
@click.password_option(help="Asked for twice, hidden, when not given.")
def users_add(name: str, role: str, initials: str, users_file: Path | None,
              pharmacy: Path | None, password: str) -> None:
    """Add NAME with a role; the password is stored only as an Argon2id hash."""
    from .counter.users import Users
    with Users(_users_file(users_file, pharmacy)) as opened:
        user = opened.add(name, role, initials, password)
    click.echo(f"added {user.name} ({user.role}, {user.initials})")


@users.command("list")
@users_option
@read_pharmacy_option
def users_list(users_file: Path | None, pharmacy: Path | None) -> None:
    """Every user: name, role, initials (never a password or its hash)."""
    with _existing_users(users_file, pharmacy) as opened:
        for user in opened.list():
            click.echo(f"{user.name}  {user.role}  {user.initials}")


def _existing_users(users_file: Path | None, pharmacy: Path | None) -> Any:
    """The users file the counter reads, which `users add` creates: not a new empty one."""
    from .counter.users import Users
    path = _users_file(users_file, pharmacy)
    if not path.is_file():
        raise click.UsageError(f"users {path}: no such file (leaflets users add creates it)")
    return Users(path)


@users.command("unlock")
@click.argument("name")
@users_option
@read_pharmacy_option
def users_unlock(name: str, users_file: Path | None, pharmacy: Path | None) -> None:
    """Let NAME sign in again now: clears the failed sign-ins that locked the account."""
    with _existing_users(users_file, pharmacy) as opened:
        opened.unlock(name)
    click.echo(f"unlocked {name}")


@users.command("password")
@click.argument("name")
@users_option
@read_pharmacy_option
@click.password_option(help="Asked for twice, hidden, when not given.")
def users_password(name: str, users_file: Path | None, pharmacy: Path | None,
                   password: str) -> None:
    """Give NAME a new password (stored only as an Argon2id hash); it also unlocks them."""
    with _existing_users(users_file, pharmacy) as opened:
        opened.set_password(name, password)
    click.echo(f"new password set for {name}")


if __name__ == "__main__":
    sys.exit(main())
