"""Compiled templates kept between runs (compose.TemplateCache): a run uses them instead of
compiling from source, but never one compiled from another source or by another environment,
and a cache folder that cannot be written, or a damaged file in it, only means compiling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest

from leaflets.compose import TemplateCache, environment, template_cache

ROOT = Path(__file__).resolve().parents[1]      # as in conftest.py


def _env(templates: Path, cache: Path, **options: Any) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)),
                              bytecode_cache=TemplateCache(cache), **options)


def _no_compiling(env: jinja2.Environment) -> None:
    """Make compiling from source fail, so a render proves the code came from the cache."""
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("compiled from source")
    env.compile = refuse     # type: ignore[method-assign]


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.j2").write_text("{% for x in xs %}[{{ x }}]{% endfor %}\n", encoding="utf-8")
    return folder


def test_a_second_run_uses_the_compiled_template(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    assert _env(templates, cache).get_template("t.j2").render(xs=[1, 2]) == "[1][2]"
    assert len(list(cache.iterdir())) == 1
    again = _env(templates, cache)
    _no_compiling(again)
    assert again.get_template("t.j2").render(xs=[1, 2]) == "[1][2]"


def test_an_edited_template_is_compiled_afresh(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    assert _env(templates, cache).get_template("t.j2").render(xs=[1]) == "[1]"
    (templates / "t.j2").write_text("{% for x in xs %}<{{ x }}>{% endfor %}", encoding="utf-8")
    assert _env(templates, cache).get_template("t.j2").render(xs=[1]) == "<1>"


def test_another_environment_never_gets_this_ones_code(templates: Path, tmp_path: Path) -> None:
    """Options that change the compiled code (autoescaping here) key the cache too."""
    cache = tmp_path / "cache"
    cache.mkdir()
    assert _env(templates, cache).get_template("t.j2").render(xs=["<b>"]) == "[<b>]"
    escaping = _env(templates, cache, autoescape=True)
    assert escaping.get_template("t.j2").render(xs=["<b>"]) == "[&lt;b&gt;]"
    assert _env(templates, cache).get_template("t.j2").render(xs=["<b>"]) == "[<b>]"
    assert len(list(cache.iterdir())) == 2


def test_a_folder_that_cannot_be_written_only_means_compiling(templates: Path,
                                                              tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    env = _env(templates, blocked / "cache")   # every open and mkstemp there fails, even as root
    assert env.get_template("t.j2").render(xs=[3]) == "[3]"


@pytest.mark.parametrize("damage", ["truncated", "flipped", "empty", "garbage"])
def test_a_damaged_file_only_means_compiling(templates: Path, tmp_path: Path,
                                             damage: str) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    _env(templates, cache).get_template("t.j2")
    (file,) = cache.iterdir()
    data = file.read_bytes()
    file.write_bytes({"truncated": data[: len(data) // 2],
                      "flipped": data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:],
                      "empty": b"",
                      "garbage": os.urandom(len(data))}[damage])
    assert _env(templates, cache).get_template("t.j2").render(xs=[4]) == "[4]"
    again = _env(templates, cache)                 # the damaged file was replaced by a whole one
    _no_compiling(again)
    assert again.get_template("t.j2").render(xs=[4]) == "[4]"


def test_the_project_environment_uses_the_per_user_cache(tmp_path: Path) -> None:
    cache = template_cache()
    if cache is None:
        pytest.skip("no per-user cache folder here (no home, or not safely this user's)")
    assert environment("en").bytecode_cache is cache
    info = cache.directory.stat()
    assert info.st_uid == os.getuid() and not info.st_mode & 0o022


def _sig(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leaflets.cli", "sig", "1 cap po qd"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_cli_with_a_fresh_a_filled_and_an_unusable_cache(tmp_path: Path) -> None:
    """The same words whether the templates were compiled now, read from the cache, or the cache
    folder is someone else's to write (group-writable: not used)."""
    home = tmp_path / "cache-home"
    env = {**os.environ, "XDG_CACHE_HOME": str(home)}
    first, second = _sig(env), _sig(env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout == "Take 1 capsule by mouth once daily.\n"
    folder = home / "leaflets" / "templates"
    assert any(folder.iterdir())
    folder.chmod(0o777)
    for file in folder.iterdir():
        file.write_bytes(b"planted")
    third = _sig(env)
    assert third.returncode == 0, third.stderr
    assert third.stdout == first.stdout
    assert all(f.read_bytes() == b"planted" for f in folder.iterdir())   # neither read nor written
