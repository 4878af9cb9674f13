"""Load and validate input files into frozen models, reporting every problem with file and line."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem
from .models import DocumentStyle, Fill, Pharmacy, Product, Stock
from .resources import stocks_dir

# libyaml's C loader when the wheel has it: the same safe subset of YAML, several times faster.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Path_ = tuple[str | int, ...]


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


def _display(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """The ways reading a file fails (missing, unreadable, not UTF-8), as InputError naming it."""
    try:
        yield
    except FileNotFoundError:
        raise InputError.one(path, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError.one(path, "", f"expected UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise InputError.one(path, "", f"cannot read: {exc.strerror}") from None


def read_document(path: Path) -> tuple[Any, Source]:
    """Parse a YAML or JSON file safely; return the data and a line map of its keys."""
    with reading(path):
        text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError.one(path, "", f"invalid JSON: {exc.msg}", exc.lineno) from None
    else:
        try:
            data = yaml.load(text, Loader=SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise InputError.one(path, "", f"invalid YAML: {problem}", line) from None
    return data, Source(str(path), text, _line_map(text))


def _line_map(text: str) -> dict[Path_, int]:
    # JSON is (nearly) YAML: composing the node tree gives lines for both. A document the
    # composer cannot read still validates, only without line numbers.
    try:
        root = yaml.compose(text, Loader=SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[Path_, int] = {}

    def walk(node: yaml.Node, path: Path_) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                lines[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return lines


def _message(err: Any, model: type[BaseModel]) -> str:
    kind = err["type"]
    got = err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, err["loc"][:-1])
        return f"unknown key (expected one of: {', '.join(allowed)})" if allowed else "unknown key"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    if kind == "enum":
        return f"expected one of: {err['ctx']['expected'].replace(' or ', ', ')}, got {got!r}"
    if kind == "string_pattern_mismatch":
        return f"expected {_PATTERN_HELP.get(err['loc'][-1], 'a different form')}, got {got!r}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"expected a number of at least {err['ctx'].get('ge', err['ctx'].get('gt'))}, got {got!r}"
    if kind == "less_than_equal":
        return f"expected a number of at most {err['ctx']['le']}, got {got!r}"
    if kind == "too_short":
        return "expected at least one entry"
    if kind in ("model_type", "dict_type"):
        return f"expected a mapping of keys, got {got!r}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {got!r}"
    if kind == "bool_type":
        return f"expected true or false, got {got!r}"
    return f"{err['msg']}, got {got!r}"


_PATTERN_HELP: dict[str | int, str] = {
    "rx_number": "letters, digits and '-' only (a safe file name, at most 20 characters)",
    "product": "a product slug: lower-case letters, digits, '.' and '-'",
    "default_stock": "a stock name: lower-case letters, digits, '.' and '-'",
    "name": "lower-case letters, digits, '.' and '-'",
    "lot": "a lot number: letters, digits, '.', '-' and '/'",
    "pharmacist": "the pharmacist's initials",
    "monograph_base_url": "an https:// URL with no query or fragment",
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
            problems.append(Problem(source.file, source.line(loc), _display(loc), _message(err, model)))
    if built is not None and hasattr(built, "problems"):
        for dotted, message in built.problems():
            problems.append(Problem(source.file, source.line_of(dotted), dotted, message))
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.field)))
    assert built is not None
    return built


def load_fill(path: Path) -> Loaded[Fill]:
    data, source = read_document(path)
    return Loaded(validate(Fill, data, source), source)


def load_pharmacy(path: Path) -> Loaded[Pharmacy]:
    data, source = read_document(path)
    return Loaded(validate(Pharmacy, data, source), source)


def product_slugs(catalog: Path) -> list[str]:
    if not catalog.is_dir():
        raise InputError.one(catalog, "", "product catalog folder not found")
    return sorted(p.stem for p in catalog.glob("*.yaml"))


def load_product(catalog: Path, slug: str, *, fill_file: str = "", line: int | None = None
                 ) -> Loaded[Product]:
    path = catalog / f"{slug}.yaml"
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


def load_stock(name: str, directory: Path | None = None) -> Loaded[Stock]:
    folder = directory or stocks_dir()
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) or "none"
        raise InputError.one(_bundled(path, directory), "default_stock",
                             f"unknown label stock '{name}' (known: {known})")
    data, source = read_document(path)
    source = dataclasses.replace(source, file=str(_bundled(path, directory)))
    return Loaded(validate(Stock, data, source), source)


def load_document_style(name: str, directory: Path | None = None) -> Loaded[DocumentStyle]:
    path = (directory or stocks_dir()) / f"{name}.yaml"
    data, source = read_document(path)
    source = dataclasses.replace(source, file=str(_bundled(path, directory)))
    return Loaded(validate(DocumentStyle, data, source), source)


# ---- batch inputs: many fills from CSV, a YAML list, a JSON array, JSON Lines or a folder ----------

FILL_SUFFIXES = (".yaml", ".yml", ".json")


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
    "whole" (a whole number: CSV has no types, YAML and JSON do) or "text"."""
    columns: dict[str, str] = {}
    for name, info in model.model_fields.items():
        inner = _inner_model(info.annotation)
        if inner is not None:
            columns.update(_csv_columns(inner, f"{prefix}{name}."))
        elif getattr(info.annotation, "__origin__", None) in (tuple, list):
            columns[f"{prefix}{name}"] = "list"
        else:
            columns[f"{prefix}{name}"] = "whole" if info.annotation is int else "text"
    return columns


CSV_COLUMNS = _csv_columns(Fill)


def _cell(kind: str, cell: str) -> Any:
    if kind == "list":
        return [v.strip() for v in cell.split(";") if v.strip()]
    if kind == "whole" and cell.isascii() and cell.isdigit():
        return int(cell)
    return cell


def _csv_rows(path: Path) -> Iterator[Row]:
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise InputError.one(path, "", "expected a header row naming the columns", 1)
        header = [h.strip() for h in header]
        unknown = [h for h in header if h not in CSV_COLUMNS]
        problems = [Problem(str(path), 1, h, f"unknown column (expected one of: {', '.join(CSV_COLUMNS)})")
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
            data: dict[str, Any] = {}
            for column, cell in zip(header, cells, strict=False):
                cell = cell.strip()
                if not cell:
                    continue          # an empty cell is a missing value
                node = data
                *parents, leaf = column.split(".")
                for part in parents:
                    node = node.setdefault(part, {})
                node[leaf] = _cell(CSV_COLUMNS[column], cell)
            if any(c.strip() for c in cells[len(header):]):   # empty extra cells are harmless
                data["(extra cells)"] = cells[len(header):]
            yield Row(data, Source(str(path), json.dumps(cells, ensure_ascii=False), first_line=start))


def _items(path: Path, data: list[Any], source: Source) -> Iterator[Row]:
    for i, item in enumerate(data):
        lines = {p[1:]: n for p, n in source.lines.items() if p[:1] == (i,)}
        try:
            text = json.dumps(item, ensure_ascii=False, default=str)
        except (TypeError, ValueError):      # e.g. a date as a key: validation reports the item
            text = repr(item)
        yield Row(item, Source(str(path), text, lines, first_line=source.lines.get((i,))))


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                item = _Unreadable(f"invalid JSON: {exc.msg} (column {exc.colno})")
            yield Row(item, Source(str(path), line, first_line=number))


@dataclass(frozen=True)
class _Unreadable:
    """A batch row that could not be parsed: reported as that row's problem."""

    message: str


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
                yield Row(_Unreadable(err.problems[0].message), Source(str(file), "",
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
    data, source = read_document(path)      # a YAML or JSON document is parsed whole
    if isinstance(data, list):
        yield from _items(path, data, source)
    elif isinstance(data, dict):           # a single fill file is a batch of one
        yield Row(data, source)
    else:
        raise InputError.one(path, "", "expected a list of fills (or one fill)", 1)


@contextlib.contextmanager
def _open_text(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file read line by line (a spreadsheet's byte-order mark is dropped); errors
    become InputError naming the file."""
    with reading(path), path.open(encoding="utf-8-sig", newline="") as handle:
        yield handle


def validate_row(row: Row) -> Loaded[Fill]:
    if isinstance(row.data, _Unreadable):
        raise InputError.one(row.source.file, "", row.data.message, row.source.first_line)
    if isinstance(row.data, dict) and "(extra cells)" in row.data:
        raise InputError.one(row.source.file, "", "more cells than the header has columns",
                             row.source.first_line)
    if not isinstance(row.data, dict):
        raise InputError.one(row.source.file, "", "expected a mapping of keys (one fill)",
                             row.source.first_line)
    return Loaded(validate(Fill, row.data, row.source), row.source)
