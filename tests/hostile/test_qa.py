"""`leaflets qa` under hostile input and real faults: a message and an exit code every time, never
a traceback, never unbounded work, never a partial report. Every case runs the real command in a
subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, warnings_as_errors: bool = False) -> subprocess.CompletedProcess[str]:
    """`leaflets qa ARGS` as a user runs it (with `-W error`, as pytest runs the library)."""
    python = [sys.executable, *(["-W", "error"] if warnings_as_errors else [])]
    return subprocess.run([*python, "-m", "leaflets.cli", "qa", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)


def refused(done: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert (done.returncode, done.stderr) == (code, f"Error: {message}\n")


# ---- PDFs of any size and page count, written byte by byte ---------------------------------------


def pdf(path: Path, pages: list[tuple[float, float]] | int, *, content: str = "",
        variant: int = 0) -> Path:
    """A valid PDF of blank pages (`pages`: their sizes in points, or a count of US Letter pages),
    each drawing `content`; `variant` changes the bytes and nothing a reader shows."""
    sizes = [(612.0, 792.0)] * pages if isinstance(pages, int) else pages
    stream = content.encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (4 + i) for i in range(len(sizes)))
               + b"] /Count %d >>" % len(sizes),
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents 3 0 R >>" % size
                for size in sizes]
    out = bytearray(b"%%PDF-1.4\n%% variant %d\n" % variant)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def pair(tmp_path: Path, pages: list[tuple[float, float]] | int, content: str = "") -> tuple[Path, Path]:
    """Two PDFs that differ in bytes (so nothing short-cuts the comparison) and in one stripe."""
    return (pdf(tmp_path / "actual.pdf", pages, content=content, variant=1),
            pdf(tmp_path / "expected.pdf", pages))


# ---- bounds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size_in", "dpi"), [((4, 6), 600), ((8.5, 11), 600), ((8.27, 11.69), 600),
                                              ((8.5, 14), 300)])
def test_pharmacy_pages_pass_at_the_highest_dpi(tmp_path: Path, size_in: tuple[float, float],
                                                 dpi: int) -> None:
    """A 4 × 6 in label, US Letter and A4 at 600 dpi, Legal at 300: compared, not refused."""
    actual, expected = pair(tmp_path, [(size_in[0] * 72, size_in[1] * 72)], "0 0 10 10 re f")
    done = run(actual, expected, "--dpi", dpi)
    assert (done.returncode, done.stderr) == (1, "")           # they differ: the stripe
    assert "page 1: " in done.stdout and " pixels changed at x 0, " in done.stdout


def test_a_huge_page_is_refused_before_it_is_rasterised(tmp_path: Path) -> None:
    # 200 × 200 in at 100 dpi: 400 million pixels, 3 GB when it was rasterised.
    actual, expected = pair(tmp_path, [(14400, 14400)])
    refused(run(actual, expected), 2,
            f"{actual}: page 1 is 200 × 200 in, which at 100 dpi is 400,000,000 pixels, above the "
            "limit of 50,000,000 (raise it with --max-page-pixels)")


def test_the_page_limit_counts_every_page_and_can_be_raised(tmp_path: Path) -> None:
    actual, expected = pair(tmp_path, [(612, 792), (720, 720)])      # page 2: 10 × 10 in
    refused(run(actual, expected, "--max-page-pixels", 999_999), 2,
            f"{actual}: page 2 is 10 × 10 in, which at 100 dpi is 1,000,000 pixels, above the "
            "limit of 999,999 (raise it with --max-page-pixels)")
    done = run(actual, expected, "--max-page-pixels", 1_000_000)
    assert (done.returncode, done.stderr) == (0, "")


def test_twenty_thousand_pages_are_refused_before_any_is_read(tmp_path: Path) -> None:
    actual, expected = pair(tmp_path, 20_000)
    refused(run(actual, expected), 2,
            f"{actual}: 20,000 pages, above the limit of 5,000 (raise it with --max-pages)")
    actual, expected = pair(tmp_path, 4)
    refused(run(actual, expected, "--max-pages", 3), 2,
            f"{actual}: 4 pages, above the limit of 3 (raise it with --max-pages)")
    assert run(actual, expected, "--max-pages", 4).returncode == 0


def test_check_refuses_a_label_too_large_to_decode_its_codes(tmp_path: Path) -> None:
    fill = tmp_path / "tree" / "600123-0"
    fill.mkdir(parents=True)
    pdf(fill / "label.pdf", [(14400, 14400)])
    (fill / "fill.json").write_text('{"label": {"fields": []}}')
    refused(run(tmp_path / "tree", "--check"), 2,
            f"{fill / 'label.pdf'}: page 1 is 200 × 200 in, which at 300 dpi is 3,600,000,000 "
            "pixels, above the limit of 50,000,000 (raise it with --max-page-pixels)")


def test_a_page_past_pillows_bomb_size_compares_under_warnings_as_errors(tmp_path: Path) -> None:
    """100 × 100 in at 100 dpi (100 million pixels, above Pillow's decompression-bomb warning at
    89 million), the limit raised: a change down most of the page made a changed band of 98.6
    million pixels, which Image.crop refused with a DecompressionBombWarning, a traceback under
    `-W error` (and a DecompressionBombError at twice the size without it)."""
    actual, expected = pair(tmp_path, [(7200, 7200)], "0 100 144 7100 re f")
    done = run(actual, expected, "--max-page-pixels", 100_000_000, warnings_as_errors=True)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert (done.returncode, done.stderr) == (1, "")
    assert "page 1: 1972400 pixels changed at x 0, y 0 pt from the top (144 × 7100.6 pt)" in done.stdout
