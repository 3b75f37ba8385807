"""The built book in a real browser: every page of _toc.yml opened in headless Chromium (Debian's
/usr/bin/chromium, installed by scripts/setup.sh) from a local web server. Checks that every image
has loaded, that no page shows a Python traceback or an error output, and that the navigation
reaches every chapter; saves a screenshot of each page in _build/screenshots.

The book is built with `python -m helpers book` from the committed cache
(COMPENDIUM_REQUIRE_CACHE=1: no DFT). Deselect with `-m "not browser"`.
"""
import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

from helpers.paths import ROOT

pytestmark = pytest.mark.browser

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]

# Injected into every HTML page the test server sends: once the page and its images have
# loaded, record which images failed (not complete, naturalWidth 0, or img.decode() rejected)
# in an attribute of <html>, which --dump-dom then shows.
PROBE = b"""<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  Promise.allSettled(imgs.map(function (i) { return i.decode(); })).then(function (res) {
    var broken = imgs.filter(function (i, k) {
      return !(i.complete && i.naturalWidth > 0 && res[k].status === 'fulfilled');
    }).map(function (i) { return i.getAttribute('src'); });
    document.documentElement.setAttribute('data-probe',
        JSON.stringify({images: imgs.length, broken: broken}));
  });
});
</script>"""


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return [f + ".html" for f in files]


class Handler(http.server.SimpleHTTPRequestHandler):
    failed: list = []

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix == ".html" and path.is_file():
            body = path.read_bytes().replace(b"</body>", PROBE + b"</body>", 1)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            import io
            return io.BytesIO(body)
        head = super().send_head()
        if head is None and not self.path.endswith("favicon.ico"):
            Handler.failed.append(self.path)
        return head


@pytest.fixture(scope="module")
def site():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `bash scripts/setup.sh` (installs Debian's chromium)")
    env = dict(os.environ, COMPENDIUM_REQUIRE_CACHE="1")
    env.pop("COMPENDIUM_CACHE", None)
    subprocess.run([sys.executable, "-m", "helpers", "book"], cwd=ROOT, env=env, check=True)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def chromium(*args, timeout=120):
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                             capture_output=True, text=True, timeout=timeout)
    return run.stdout


@pytest.fixture(scope="module")
def pages(site):
    """page -> DOM after load (with the image probe), and a screenshot of each."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    doms = {}
    for page in toc_files():
        url = urljoin(site, page)
        doms[page] = chromium("--virtual-time-budget=20000", "--dump-dom", url)
        shot = SHOTS / (page.replace("/", "__").removesuffix(".html") + ".png")
        shot.unlink(missing_ok=True)
        chromium("--window-size=1280,2400", "--virtual-time-budget=20000", f"--screenshot={shot}", url)
    return doms


@pytest.mark.parametrize("page", toc_files())
def test_page_loads_with_all_images_and_no_errors(pages, page):
    dom = pages[page]
    probe = re.search(r'data-probe="([^"]*)"', dom)
    assert probe, f"{page}: the page did not finish loading in Chromium"
    report = json.loads(html.unescape(probe.group(1)))
    assert not report["broken"], f"{page}: images not loaded: {report['broken']}"
    # a truncated PNG can still report its size in the browser: decode every image file fully
    for src in re.findall(r'<img[^>]+src="([^"]+)"', dom):
        path = (HTML / page).parent / html.unescape(src)
        if src.startswith("data:") or "://" in src:
            continue
        assert path.resolve().is_file(), f"{page}: image {src} is missing"
        if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif"):
            from PIL import Image
            try:
                with Image.open(path) as im:
                    im.load()
            except Exception as err:                      # noqa: BLE001 - any decoding failure
                pytest.fail(f"{page}: image {src} cannot be decoded ({err})")
    assert "Traceback (most recent call last)" not in dom, f"{page} shows a Python traceback"
    classes = " ".join(re.findall(r'class="([^"]*)"', dom)).split()
    assert "traceback" not in classes and "error" not in classes, f"{page} shows an error output"
    for block in re.findall(r'class="[^"]*\bstderr\b[^"]*">(.*?)</pre>', dom, re.S):
        assert not re.search(r"\w*Error\b", block), f"{page}: stderr output with an error: {block[:300]}"
    shot = SHOTS / (page.replace("/", "__").removesuffix(".html") + ".png")
    assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot of {page}"


def test_notebook_pages_have_a_binder_link_and_numbered_figures_and_tables(pages):
    """Every notebook page offers its Binder launch link (repository.url of _config.yml); on the
    pages converted to numbered figures (00-02) every figure and table has its Sphinx number."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    org_repo = urlparse(repo).path.strip("/")
    for page in toc_files():
        if page.startswith("build/executed/"):
            stem = page.removesuffix(".html")
            assert re.search(rf'href="https://mybinder\.org/v2/gh/{re.escape(org_repo)}/[^"]*{re.escape(stem)}\.ipynb"',
                             pages[page]), f"{page}: no Binder launch link"
    for stem in ("00_intro", "01_valence", "02_afe_lattice"):
        dom = pages[f"build/executed/{stem}.html"]
        figures = re.findall(r"<figure\b.*?</figure>", dom, re.S)
        tables = re.findall(r"<table\b.*?</table>", dom, re.S)
        assert figures and all('class="caption-number"' in f for f in figures), f"{stem}: unnumbered figure"
        assert tables and all("<caption>" in t and 'class="caption-number"' in t for t in tables), \
            f"{stem}: a table without a numbered caption"


def test_navigation_reaches_every_chapter(pages, site):
    """Following the links of the pages (sidebar and next/previous) from the root page reaches
    every chapter of _toc.yml."""
    wanted = set(toc_files())
    seen, todo = set(), [toc_files()[0]]
    while todo:
        page = todo.pop()
        if page in seen or page not in pages:
            continue
        seen.add(page)
        for href in re.findall(r'<a[^>]+href="([^"#]+)', pages[page]):
            target = urlparse(urljoin(urljoin(site, page), html.unescape(href)))
            if target.netloc == urlparse(site).netloc:
                todo.append(target.path.lstrip("/"))
    assert wanted <= seen, f"not reachable by navigation: {sorted(wanted - seen)}"
    assert not Handler.failed, f"the server had no file for {Handler.failed}"
