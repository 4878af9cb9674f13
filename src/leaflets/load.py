"""Load and validate input files into frozen models, reporting every problem with file and line."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem
from .models import SLUG_PATTERN, DocumentStyle, Fill, Pharmacy, Product, Stock, WarningCatalog
from .parse import (
    EXCERPT_CHARS,
    MAX_BATCH_BYTES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_LINE_BYTES,
    MAX_NUMBER_CHARS,
    Found,
    Path_,
    check,
    decode,
    display,
    excerpt,
    json_value,
    open_regular,
    quoted,
    read_checked,
    read_parsed,
)
from .resources import stocks_dir

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """Where a document came from: its file, bytes hash and the line of every key path."""

    file: str
    text: str
    lines: dict[Path_, int] = field(default_factory=dict)
    first_line: int | None = None     # a fill that is one item or row of a batch file: its line

    def line(self, path: Path_) -> int | None:
        # The nearest enclosing node that has a line: a missing key points at its parent; a CSV
        # row has one line for every column.
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return self.first_line

    def line_of(self, dotted: str) -> int | None:
        parts: list[str | int] = [int(p) if p.isdigit() else p for p in dotted.split(".")]
        return self.line(tuple(parts))


@dataclass(frozen=True)
class Loaded(Generic[T]):
    model: T
    source: Source


def read_document(path: Path, limit: int = MAX_FILE_BYTES) -> tuple[Any, Source]:
    """A YAML or JSON file through the input boundary (parse.py): its checked data and a line
    map of its keys. Any problem raises InputError naming the file, line and field."""
    data, text, lines = read_checked(path, json_text=path.suffix.lower() == ".json", limit=limit)
    return data, Source(str(path), text, lines)


def _read_unchecked(path: Path, limit: int) -> tuple[Any, Source, Found]:
    data, text, lines, found = read_parsed(path, json_text=path.suffix.lower() == ".json",
                                           limit=limit)
    return data, Source(str(path), text, lines), found


def _message(err: Any, model: type[BaseModel]) -> str:
    kind = err["type"]
    got = quoted(err.get("input"))
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, err["loc"][:-1])
        return f"unknown key (expected one of: {', '.join(allowed)})" if allowed else "unknown key"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    if kind == "enum":
        return f"expected one of: {err['ctx']['expected'].replace(' or ', ', ')}, got {got}"
    if kind == "string_pattern_mismatch":
        return f"expected {_PATTERN_HELP.get(err['loc'][-1], 'a different form')}, got {got}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"expected a number of at least {err['ctx'].get('ge', err['ctx'].get('gt'))}, got {got}"
    if kind in ("less_than_equal", "less_than"):
        return f"expected a number of at most {err['ctx'].get('le', err['ctx'].get('lt'))}, got {got}"
    if kind == "too_short":
        return "expected at least one entry"
    if kind in ("model_type", "dict_type"):
        return f"expected a mapping of keys, got {got}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"expected a number, got {got}"
    return f"{err['msg']}, got {got}"


_PATTERN_HELP: dict[str | int, str] = {
    "rx_number": "letters, digits and '-' only (a safe file name, at most 20 characters)",
    "product": "a product slug: lower-case letters, digits, '.' and '-'",
    "default_stock": "a stock name: lower-case letters, digits, '.' and '-'",
    "name": "lower-case letters, digits, '.' and '-'",
    "slug": "a product file named with lower-case letters, digits, '.' and '-'",
    "lot": "a lot number: letters, digits, '.', '-' and '/'",
    "pharmacist": "the pharmacist's initials",
    "monograph_base_url": "an https:// URL with no query or fragment",
    "code": "a warning code: lower-case letters, digits and '-'",
}


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return []
        current = _inner_model(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [k for k in current.model_fields if k != "slug"]
    return []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def validate(model: type[M], data: Any, source: Source, **extra: Any) -> M:
    """Build `model` from `data`; raise one InputError carrying every problem of the document."""
    if not isinstance(data, dict):
        raise InputError.one(source.file, "", "expected a mapping of keys at the top level", 1)
    problems: list[Problem] = []
    built: M | None = None
    try:
        built = model.model_validate({**data, **extra})
    except ValidationError as exc:
        errors = exc.errors()
        for err in errors:
            loc = tuple(err["loc"])
            if err["type"] == "too_short" and any(
                    len(e["loc"]) > len(loc) and tuple(e["loc"][:len(loc)]) == loc for e in errors):
                continue  # the list's own items failed; "at least one entry" would mislead
            problems.append(Problem(source.file, source.line(loc), display(loc), _message(err, model)))
    if built is not None and hasattr(built, "problems"):
        for dotted, message in built.problems():
            problems.append(Problem(source.file, source.line_of(dotted), dotted, message))
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.field)))
    assert built is not None
    return built


def load_fill(path: Path) -> Loaded[Fill]:
    """One fill file. A day's file (a CSV, JSON Lines, or a list of fills) is `leaflets batch`'s."""
    if path.suffix.lower() in ROWS_SUFFIXES:
        raise InputError.one(path, "", f"a {path.suffix.lower()[1:].upper()} file holds many "
                                       f"fills: render it with `leaflets batch {path}`")
    data, source = read_document(path)
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        fills = f"{len(data)} fill" + ("s" if len(data) > 1 else "")
        raise InputError.one(path, "", f"this file holds a list of {fills}: render it with "
                                       f"`leaflets batch {path}`", 1)
    return Loaded(validate(Fill, data, source), source)


_NO_PROJECT = ("looked here ({here}) and in the folders above it for a project (a folder with "
               "pharmacy.yaml and products/): run leaflets in the project folder, or give {option}")


def load_pharmacy(path: Path) -> Loaded[Pharmacy]:
    if not path.exists() and not path.is_absolute():
        raise InputError.one(path, "", "file not found; " + _NO_PROJECT.format(
            here=Path.cwd(), option="--pharmacy"))
    data, source = read_document(path)
    return Loaded(validate(Pharmacy, data, source), source)


def load_warning_catalog(path: Path) -> Loaded[WarningCatalog]:
    """The pharmacy's catalog of auxiliary warnings (warnings.yaml)."""
    if not path.exists():
        hint = "" if path.is_absolute() else "; " + _NO_PROJECT.format(here=Path.cwd(),
                                                                       option="--warnings")
        raise InputError.one(path, "", f"auxiliary warning catalog not found{hint}")
    data, source = read_document(path)
    return Loaded(validate(WarningCatalog, data, source), source)


def check_warning_codes(product: Loaded[Product], catalog: Loaded[WarningCatalog]) -> None:
    """Every code a product lists is in the catalog: else an InputError at the product file's
    line of that code, naming the codes the catalog has."""
    known = catalog.model.warnings
    problems = [Problem(product.source.file, product.source.line_of(f"auxiliary_warnings.{i}.code"),
                        f"auxiliary_warnings.{i}.code",
                        f"unknown auxiliary warning '{w.code}' (not in {catalog.source.file}; "
                        f"known: {', '.join(sorted(known))})")
                for i, w in enumerate(product.model.auxiliary_warnings) if w.code not in known]
    if problems:
        raise InputError(problems)


def product_slugs(catalog: Path) -> list[str]:
    if not catalog.is_dir():
        hint = "" if catalog.is_absolute() else "; " + _NO_PROJECT.format(here=Path.cwd(),
                                                                           option="--catalog")
        raise InputError.one(catalog, "", f"product catalog folder not found{hint}")
    return sorted(p.stem for p in catalog.glob("*.yaml"))


def named(folder: Path, name: str, what: str) -> Path:
    """The file of a product, stock or style named `name`: inside `folder`, never elsewhere (a
    name is a slug, so '../x' or '/etc/x' is refused, not followed)."""
    if not re.fullmatch(SLUG_PATTERN, name):
        raise InputError.one(folder, "", f"expected a {what} name (lower-case letters, digits, "
                                         f"'.' and '-', as its file is named here), got "
                                         f"{excerpt(name)}")
    return folder / f"{name}.yaml"


def load_product(catalog: Path, slug: str, *, fill_file: str = "", line: int | None = None
                 ) -> Loaded[Product]:
    path = named(catalog, slug, "product")
    if not path.is_file():
        known = ", ".join(product_slugs(catalog)) or "none"
        raise InputError.one(fill_file or path, "product",
                             f"unknown product '{slug}' (known: {known})", line)
    data, source = read_document(path)
    if isinstance(data, dict) and "slug" in data:
        raise InputError.one(path, "slug", "the slug is the file name; remove this key",
                             source.line(("slug",)))
    return Loaded(validate(Product, data, source, slug=slug), source)


def _bundled(path: Path, directory: Path | None) -> Path:
    """How a file is named in messages and records: a bundled one as `stocks/<name>.yaml`,
    wherever the package is installed, so records are the same bytes on every machine."""
    return path if directory is not None else Path("stocks") / path.name


def _is_style(data: Any) -> bool:
    """A stocks folder holds label stocks and document styles: a style has margins, a stock
    regions (a broken stock without regions is still a stock, and says what it lacks)."""
    return isinstance(data, dict) and "margin_pt" in data and "regions" not in data


def label_stocks(directory: Path | None = None) -> list[str]:
    """The label stocks of a stocks folder, for messages (the readable files that are not styles)."""
    found = []
    for path in sorted((directory or stocks_dir()).glob("*.yaml")):
        with contextlib.suppress(InputError):
            data, _ = read_document(path)
            if isinstance(data, dict) and not _is_style(data):
                found.append(path.stem)
    return found


def load_stock(name: str, directory: Path | None = None) -> Loaded[Stock]:
    folder = directory or stocks_dir()
    path = named(folder, name, "label stock")
    if not path.is_file():
        raise InputError.one(_bundled(path, directory), "default_stock",
                             f"unknown label stock '{name}' (label stocks: "
                             f"{', '.join(label_stocks(directory)) or 'none'})")
    data, source = read_document(path)
    if _is_style(data):
        raise InputError.one(_bundled(path, directory), "default_stock",
                             f"'{name}' is a document style, not a label stock (label stocks: "
                             f"{', '.join(label_stocks(directory)) or 'none'})")
    source = dataclasses.replace(source, file=str(_bundled(path, directory)))
    return Loaded(validate(Stock, data, source), source)


def load_document_style(name: str, directory: Path | None = None) -> Loaded[DocumentStyle]:
    path = named(directory or stocks_dir(), name, "document style")
    data, source = read_document(path)
    source = dataclasses.replace(source, file=str(_bundled(path, directory)))
    return Loaded(validate(DocumentStyle, data, source), source)


# ---- batch inputs: many fills from CSV, a YAML list, a JSON array, JSON Lines or a folder ----------

FILL_SUFFIXES = (".yaml", ".yml", ".json")
ROWS_SUFFIXES = (".csv", ".jsonl", ".ndjson")     # files of many fills, one a row (or line)
BATCH_SUFFIXES = (*ROWS_SUFFIXES, *FILL_SUFFIXES)


@dataclass(frozen=True)
class Row:
    """One fill of a batch input, read but not yet validated (so a batch of 10,000 rows holds
    plain data, and each worker validates its own)."""

    data: Any
    source: Source

    @property
    def where(self) -> str:
        return f"{self.source.file}:{self.source.first_line}" if self.source.first_line \
            else self.source.file


def _csv_columns(model: type[BaseModel], prefix: str = "") -> dict[str, str]:
    """Every dotted column a CSV may have, and how its cells are read: "list" (';'-separated),
    "whole" (a whole number: CSV has no types, YAML and JSON do), "flag" (true or false) or "text"."""
    columns: dict[str, str] = {}
    for name, info in model.model_fields.items():
        inner = _inner_model(info.annotation)
        if inner is not None:
            columns.update(_csv_columns(inner, f"{prefix}{name}."))
        elif getattr(info.annotation, "__origin__", None) in (tuple, list):
            columns[f"{prefix}{name}"] = "list"
        else:
            kind = "whole" if info.annotation is int else "flag" if info.annotation is bool else "text"
            columns[f"{prefix}{name}"] = kind
    return columns


CSV_COLUMNS = _csv_columns(Fill)


def _cell(kind: str, cell: str) -> Any:
    if kind == "list":
        return [v.strip() for v in cell.split(";") if v.strip()]
    if kind == "whole" and cell.isascii() and cell.isdigit() and len(cell) <= MAX_NUMBER_CHARS:
        return int(cell)
    if kind == "flag" and cell in ("true", "false"):
        return cell == "true"
    return cell


def _lines(path: Path, handle: Any) -> Iterator[str]:
    """A file's lines as text, each bounded and decoded on its own (so a bad byte is reported
    at its line, and a CSV of any length is read a line at a time)."""
    number = 0
    while line := handle.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise InputError.one(path, "", f"a line is longer than {MAX_LINE_BYTES >> 20} MiB", number)
        yield decode(line, path, number) if number == 1 else _decode_line(line, path, number)


def _decode_line(line: bytes, path: Path, number: int) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return decode(line, path, number)    # raises, with the line and the fix


_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "'|'"}


def _csv_rows(path: Path) -> Iterator[Row]:
    # A cell may be as long as a line (the csv module's own limit is 128 KiB): an overlong cell
    # is then refused by the text check, for its row alone.
    csv.field_size_limit(MAX_LINE_BYTES)
    with open_regular(path) as handle:
        reader = csv.reader(_lines(path, handle))
        try:
            yield from _csv_records(path, reader)
        except csv.Error as exc:
            raise InputError.one(path, "", f"not readable as CSV: {exc}", reader.line_num) from None


def _csv_records(path: Path, reader: Any) -> Iterator[Row]:
    header = next(reader, None)
    if not header:
        raise InputError.one(path, "", "expected a header row naming the columns", 1)
    header = [h.strip() for h in header]
    if len(header) == 1:
        for mark, name in _SEPARATORS.items():
            if mark in header[0]:
                raise InputError.one(path, "", f"the columns are separated by {name}; expected "
                                     "commas: save or export the file as CSV (comma-separated)", 1)
    unknown = [h for h in header if h not in CSV_COLUMNS]
    problems = [Problem(str(path), 1, h if len(h) <= EXCERPT_CHARS else h[:EXCERPT_CHARS] + "…",
                        f"unknown column (expected one of: {', '.join(CSV_COLUMNS)})")
                for h in unknown]
    problems += [Problem(str(path), 1, h, "column appears twice")
                 for i, h in enumerate(header) if h in header[:i]]
    if problems:
        raise InputError(problems)
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        source = Source(str(path), json.dumps(cells, ensure_ascii=False), first_line=start)
        if any(c.strip() for c in cells[len(header):]):   # empty extra cells are harmless
            yield Row(_Unreadable((Problem(str(path), start, "", "more cells than the header "
                                           "has columns"),)), source)
            continue
        yield cells_row(zip(header, cells, strict=False), source)


def read_cell(column: str, cell: str) -> Any:
    """One cell of a column as a CSV row reads it (a list column: its ';'-separated items)."""
    return _cell(CSV_COLUMNS[column], cell.strip())


def row_cells(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A fill's data (as a record keeps it) as the text cells of a CSV row: what cells_row
    reads back into the same fill. A list is joined by '; ', a flag set is "true" and one not
    set an empty cell (its default)."""
    cells: dict[str, str] = {}
    for name, value in data.items():
        column = f"{prefix}{name}"
        if isinstance(value, dict):
            cells.update(row_cells(value, f"{column}."))
        elif column in CSV_COLUMNS and value is not None:
            if isinstance(value, list):
                cells[column] = "; ".join(str(v) for v in value)
            elif isinstance(value, bool):
                cells[column] = "true" if value else ""
            else:
                cells[column] = str(value)
    return cells


def cells_row(cells: Iterable[tuple[str, str]], source: Source) -> Row:
    """One fill from dotted columns and their text cells, as a CSV row is read (and the
    counter's form, whose fields are the CSV's columns): an empty cell is a missing value."""
    data: dict[str, Any] = {}
    for column, cell in cells:
        cell = cell.strip()
        if not cell:
            continue
        node = data
        *parents, leaf = column.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _cell(CSV_COLUMNS[column], cell)
    return _checked_row(data, source)


def _checked_row(data: Any, source: Source) -> Row:
    """A row whose strings passed the boundary's text check; else a row that fails alone."""
    data, problems = check(data, source.lines, source.file, source.first_line)
    return Row(_Unreadable(tuple(problems)) if problems else data, source)


def _items(path: Path, data: list[Any], source: Source, found: Found) -> Iterator[Row]:
    by_item: dict[Any, dict[Path_, int]] = {}       # each item's lines and repeated keys, in
    for key_path, number in source.lines.items():   # one pass (a day of 4,000 items is quick)
        if key_path:
            by_item.setdefault(key_path[0], {})[key_path[1:]] = number
    repeated: dict[Any, list[Problem]] = {}
    for where, problem in found:
        repeated.setdefault(where[0] if where else None, []).append(problem)
    for i, item in enumerate(data):
        lines = by_item.get(i, {})
        try:
            text = json.dumps(item, ensure_ascii=False, default=str)
        except (TypeError, ValueError):      # validation reports the item
            text = repr(item)
        row = Source(str(path), text, lines, first_line=source.lines.get((i,)))
        duplicates = tuple(repeated.get(i, ()))
        yield Row(_Unreadable(duplicates), row) if duplicates else _checked_row(item, row)


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with open_regular(path) as handle:
        for number, line in enumerate(_lines(path, handle), start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            source = Source(str(path), line, first_line=number)
            try:
                item = json_value(line)
            except json.JSONDecodeError as exc:
                why = f"invalid JSON: {exc.msg} (column {exc.colno})"
            except RecursionError:
                why = f"nested deeper than {MAX_DEPTH} levels"
            else:
                yield _checked_row(item, source)
                continue
            yield Row(_Unreadable((Problem(str(path), number, "", why),)), source)


@dataclass(frozen=True)
class _Unreadable:
    """A batch row that could not be read or whose text was refused: its problems are that
    row's, and the other rows go on."""

    problems: tuple[Problem, ...]


def read_batch(paths: Sequence[Path]) -> list[Row]:
    """Every fill of the batch inputs, in order. An input that cannot be read at all raises
    InputError (after all inputs were tried); a bad row is returned as it is, for validation to
    report."""
    problems: list[Problem] = []
    rows = list(iter_batch(paths, problems))
    if problems:
        raise InputError(problems)
    return rows


def iter_batch(paths: Sequence[Path], problems: list[Problem]) -> Iterator[Row]:
    """The rows of the inputs, one at a time (a batch of any size holds one row at a time). An
    input that cannot be read adds its problems to `problems` and the next input is read."""
    for path in paths:
        try:
            yield from _read_one(path)
        except InputError as err:
            problems.extend(err.problems)


def _read_one(path: Path) -> Iterator[Row]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in FILL_SUFFIXES and p.is_file())
        if not files:
            raise InputError.one(path, "", f"no fill files ({', '.join(FILL_SUFFIXES)}) in this folder")
        for file in files:
            try:
                data, source = read_document(file)
            except InputError as err:     # one unreadable file is one bad fill
                yield Row(_Unreadable(err.problems), Source(str(file), "",
                                                            first_line=err.problems[0].line))
                continue
            yield Row(data, source)
        return
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_rows(path)
        return
    if suffix in (".jsonl", ".ndjson"):
        yield from _jsonl_rows(path)
        return
    if suffix not in FILL_SUFFIXES:
        raise InputError.one(path, "", "expected a .csv, .yaml, .json or .jsonl file, or a folder")
    data, source, found = _read_unchecked(path, MAX_BATCH_BYTES)   # parsed whole
    if isinstance(data, list):
        yield from _items(path, data, source, found)
    elif isinstance(data, dict):           # a single fill file is a batch of one
        if found:
            raise InputError([p for _, p in found])
        yield _checked_row(data, source)
    else:
        raise InputError.one(path, "", "expected a list of fills (or one fill)", 1)


def validate_row(row: Row) -> Loaded[Fill]:
    if isinstance(row.data, _Unreadable):
        raise InputError(row.data.problems)
    if not isinstance(row.data, dict):
        raise InputError.one(row.source.file, "", "expected a mapping of keys (one fill)",
                             row.source.first_line)
    return Loaded(validate(Fill, row.data, row.source), row.source)
