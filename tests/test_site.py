"""`leaflets site`: every product's monograph as a web page at the path its labels' QR codes
name, drawn from the same composed blocks as its PDF, with the PDF beside it. Read back with an
HTML parser; hostile product text is escaped, never markup."""

from __future__ import annotations

import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2 as pdfium
import yaml

from leaflets.compose import QA, Box, Heading, Para, Table
from leaflets.load import load_pharmacy, load_product, product_slugs
from leaflets.pipeline import monograph_document

from .conftest import ROOT

PRODUCTS = ROOT / "products"
SLUGS = product_slugs(PRODUCTS)


def leaflets(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leaflets.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


class Page(HTMLParser):
    """The visible text, each element's tags, and the links of a page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self.attrs_of: dict[str, dict[str, str | None]] = {}
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs_of.setdefault(tag, dict(attrs))
        if tag in ("a", "link"):
            self.links.append(dict(attrs)["href"] or "")
        if tag in ("head", "style", "script"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def texts(blocks: tuple[object, ...]) -> list[str]:
    """Every text of the composed monograph, as the PDF prints it."""
    found: list[str] = []
    for block in blocks:
        if isinstance(block, Para):
            found.append("".join(r.text for r in block.runs))
        elif isinstance(block, Heading):
            found.append(block.text)
        elif isinstance(block, QA):
            found += [block.question, block.answer]
        elif isinstance(block, Table):
            found += [*block.header, *(cell for row in block.rows for cell in row)]
        elif isinstance(block, Box):
            found += texts(block.children)
    return [" ".join(t.split()) for t in found if t.strip()]


def test_every_monograph_is_a_page_with_every_word_of_its_pdf(tmp_path: Path) -> None:
    done = leaflets("site", "--out", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site" / "monographs"          # pharmacy.yaml: .../monographs/<slug>
    assert (site / "site.css").is_file()
    pharmacy = load_pharmacy(ROOT / "pharmacy.yaml").model
    assert pharmacy.monograph_url(SLUGS[0]).endswith(f"/monographs/{SLUGS[0]}")
    for slug in SLUGS:
        page = Page((site / slug / "index.html").read_text(encoding="utf-8"))
        text = page.visible()
        document = monograph_document(load_product(PRODUCTS, slug), pharmacy)
        for expected in texts(document.blocks):
            assert expected in text, (slug, expected)
        # And every line the PDF prints (read out of the PDF), but its page footers.
        pdf_lines = [" ".join(line.split()) for page in pdfium.PdfDocument(site / f"{slug}.pdf")
                     for line in page.get_textpage().get_text_range().splitlines()]
        # (A bullet's mark is the PDF's drawing of a list item: the page has <li>.)
        body = [line.removeprefix("• ") for line in pdf_lines if line and " · Page " not in line]
        assert len(body) > 20
        for line in body:
            assert line in text, (slug, line)
        assert page.tags.count("h1") == 1 and "script" not in page.tags
        assert page.attrs_of["html"]["lang"] == "en"
        assert "width=device-width" in str(page.attrs_of["meta"]) or \
            "width=device-width" in (site / slug / "index.html").read_text()
        assert f"/monographs/{slug}.pdf" in page.links and "/monographs/site.css" in page.links
        pdf = site / f"{slug}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF")
    monographs = leaflets("monographs", "--out", str(tmp_path / "pdfs"))
    assert monographs.returncode == 0, monographs.stderr
    for slug in SLUGS:                                  # the same PDF as `leaflets monographs`
        assert (site / f"{slug}.pdf").read_bytes() == (tmp_path / "pdfs" / f"{slug}.pdf").read_bytes()


def test_the_site_is_reproducible(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert leaflets("site", "--out", str(tmp_path / name)).returncode == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 1 + 2 * len(SLUGS)
    for path in files:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()


def test_product_text_is_escaped_never_markup(tmp_path: Path) -> None:
    catalog = tmp_path / "products"
    shutil.copytree(PRODUCTS, catalog)
    path = catalog / "anastrozole-1mg.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    hostile = 'Take with <script>alert("x")</script> & <b>care</b> "quoted" \'single\''
    data["description"] = [hostile, *data.get("description", [])]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    done = leaflets("site", "--catalog", str(catalog), "--out", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "site/monographs/anastrozole-1mg/index.html").read_text(encoding="utf-8")
    page = Page(html)
    assert "script" not in page.tags and "b" not in page.tags
    assert hostile in page.visible()                     # printed exactly as entered
    assert "&lt;script&gt;" in html


def test_a_bad_product_is_reported_and_the_others_written(tmp_path: Path) -> None:
    catalog = tmp_path / "products"
    shutil.copytree(PRODUCTS, catalog)
    (catalog / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    done = leaflets("site", "--catalog", str(catalog), "--out", str(tmp_path / "site"))
    assert done.returncode == 2 and done.stderr.startswith(f"Error: {catalog / 'broken.yaml'}:")
    for slug in SLUGS:
        assert (tmp_path / "site/monographs" / slug / "index.html").is_file()
