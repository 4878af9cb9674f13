"""Load and validate input files into frozen models, reporting every problem with file and line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

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
        # The nearest enclosing node that has a line: a missing key points at its parent.
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

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


def read_document(path: Path) -> tuple[Any, Source]:
    """Parse a YAML or JSON file safely; return the data and a line map of its keys."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError.one(path, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise InputError.one(path, "", f"expected UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise InputError.one(path, "", f"cannot read: {exc.strerror}") from None
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



def load_stock(name: str, directory: Path | None = None) -> Loaded[Stock]:
    folder = directory or stocks_dir()
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) or "none"
        raise InputError.one(path, "default_stock", f"unknown label stock '{name}' (known: {known})")
    data, source = read_document(path)
    return Loaded(validate(Stock, data, source), source)


def load_document_style(name: str, directory: Path | None = None) -> Loaded[DocumentStyle]:
    path = (directory or stocks_dir()) / f"{name}.yaml"
    data, source = read_document(path)
    return Loaded(validate(DocumentStyle, data, source), source)
