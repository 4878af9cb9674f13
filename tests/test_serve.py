"""`leaflets serve`, first step: a real uvicorn server, started here, answers the URL every
label's QR code carries with the bytes `leaflets site` writes, under a strict Content-Security-
Policy; it answers nothing else, and will not listen beyond loopback without TLS."""

from __future__ import annotations

import http.client
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from leaflets.load import product_slugs

from .browser import AXE, launch, need_browser, serious_violations
from .conftest import ROOT
from .serving import serving

SLUGS = product_slugs(ROOT / "products")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with serving(ROOT, log) as served:
        yield served.port, log


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """A raw GET (the path sent as given: no client-side normalising of '..')."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path)
    response = connection.getresponse()
    found = (response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    connection.close()
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "leaflets.cli", "site", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return out / "monographs"


def test_the_qr_url_answers_what_site_writes(server: tuple[int, Path], site: Path) -> None:
    port, _ = server
    for slug in SLUGS:
        for path in (f"/monographs/{slug}", f"/monographs/{slug}/"):
            status, headers, body = get(port, path)
            assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
            assert body == (site / slug / "index.html").read_bytes()
        status, headers, body = get(port, f"/monographs/{slug}.pdf")
        assert (status, headers["content-type"]) == (200, "application/pdf")
        assert body == (site / f"{slug}.pdf").read_bytes()
    status, headers, body = get(port, "/monographs/site.css")
    assert status == 200 and body == (site / "site.css").read_bytes()
    assert headers["content-type"] == "text/css; charset=utf-8"


def test_every_answer_is_under_a_strict_policy(server: tuple[int, Path]) -> None:
    port, _ = server
    for path in (f"/monographs/{SLUGS[0]}", "/nothing-here"):
        _, headers, _ = get(port, path)
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self';" in policy
        assert "unsafe" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "server" not in headers


@pytest.mark.parametrize("path", [
    "/monographs/", "/monographs/nope", "/monographs/nope.pdf",
    "/monographs/../pharmacy.yaml", "/monographs/..%2Fpharmacy.yaml", "/monographs/%2e%2e",
    "/monographs/anastrozole-1mg.yaml", "/products/anastrozole-1mg.yaml", "/monographs/.%2E/out",
])
def test_nothing_else_is_answered(server: tuple[int, Path], path: str) -> None:
    status, _, body = get(server[0], path)
    assert (status, body) == (404, b"Not found\n")


def test_the_log_carries_paths_and_statuses_only(server: tuple[int, Path]) -> None:
    port, log = server
    get(port, f"/monographs/{SLUGS[0]}")
    time.sleep(0.5)
    lines = log.read_text().splitlines()
    assert any(f'"GET /monographs/{SLUGS[0]} HTTP/1.1" 200' in line for line in lines)


@pytest.mark.parametrize(("args", "message"), [
    (["--host", "0.0.0.0"], "0.0.0.0 is not a loopback address: serving the counter to other "
                            "machines needs TLS (--cert FILE --key FILE)"),
    (["--host", "192.0.2.10"], "192.0.2.10 is not a loopback address"),
    (["--cert", "c.pem"], "give both --cert and --key (TLS), or neither"),
])
def test_it_will_not_listen_beyond_loopback_without_tls(args: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "leaflets.cli", "serve", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


PHONE = {"width": 390, "height": 844}          # a phone-sized viewport, in CSS pixels


def test_the_monograph_pages_pass_axe_on_a_phone(server: tuple[int, Path]) -> None:
    """Each page in a real Chromium (Playwright driving Debian's), at a phone's width: axe-core,
    run in the page, finds no serious or critical violation, and nothing is wider than the
    screen (no sideways scrolling)."""
    need_browser()
    from playwright.sync_api import sync_playwright
    port, _ = server
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            # axe is added to the page by the test: the page's own policy allows no script.
            context = browser.new_context(viewport=PHONE, bypass_csp=True)
            page = context.new_page()
            for slug in SLUGS:
                response = page.goto(f"http://127.0.0.1:{port}/monographs/{slug}")
                assert response is not None and response.status == 200
                assert serious_violations(page) == [], slug
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], (slug, width)
            # And the check can fail: a page with an unlabelled image and grey-on-white text.
            page.set_content('<html lang="en"><title>t</title><main><img src="x.png">'
                             '<p style="color:#bbb">faint</p></main></html>')
            page.add_script_tag(path=str(AXE))
            ids = page.evaluate("async () => (await axe.run()).violations.map(v => v.id)")
            assert {"image-alt", "color-contrast"} <= set(ids)
        finally:
            browser.close()


def test_under_tls_the_cookie_is_secure_and_hsts_is_sent(tmp_path: Path) -> None:
    """With a certificate (a self-signed one made here by openssl), the counter speaks TLS:
    its session cookie is Secure and every answer carries Strict-Transport-Security."""
    import ssl
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=120)
    with serving(ROOT, tmp_path / "tls.log", "--host", "127.0.0.1", "--cert", str(cert),
                 "--key", str(key)) as served:
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        connection = http.client.HTTPSConnection("127.0.0.1", served.port, timeout=60,
                                                 context=context)
        connection.request("GET", "/sign-in")
        response = connection.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        response.read()
        connection.close()
    assert response.status == 200
    assert headers["strict-transport-security"] == "max-age=31536000"
    cookie = headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
