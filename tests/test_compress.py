"""The built site precompressed (.br, .gz) and served with Content-Encoding and caching headers."""

import gzip
import shutil

import brotli
import pytest
from werkzeug.test import Client

from handler.app import create_app
from handler.build import build
from handler.compress import cache_control, encoded, precompress
from handler.watch import SCRIPT_URL, Builds, LiveReload
from support import ROOT

MAIN_CSS = "assets/stylesheets/"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build a copy of the project with `formkit build`'s own build; return its public folder."""
    project = tmp_path_factory.mktemp("project")
    for name in ("docs", "schema", "site"):
        shutil.copytree(ROOT / name, project / name)
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    return build(project / "mkdocs.yml", project / "public").site_dir


@pytest.fixture
def served(site, config):
    return create_app({**config, "PUBLIC_DIR": str(site)}).test_client()


def stylesheet(site) -> str:
    return next(p.name for p in (site / MAIN_CSS).glob("main.*.min.css"))


def test_the_build_writes_brotli_and_gzip_copies_that_open_to_the_very_file(site):
    for name in ("rapportera/index.html", "assets/formkit.js", "assets/formkit.css", MAIN_CSS + stylesheet(site)):
        original = (site / name).read_bytes()
        assert brotli.decompress((site / f"{name}.br").read_bytes()) == original
        assert gzip.decompress((site / f"{name}.gz").read_bytes()) == original
        assert len((site / f"{name}.br").read_bytes()) < len(original) / 3


def test_small_files_and_files_that_do_not_shrink_get_no_copies(tmp_path):
    (tmp_path / "small.css").write_text("a{color:red}")
    (tmp_path / "image.png").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "page.html").write_text("<p>Hej</p>" * 200)

    assert precompress(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "image.png",
        "page.html",
        "page.html.br",
        "page.html.gz",
        "small.css",
    ]


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [("gzip, deflate, br, zstd", "br"), ("gzip, deflate", "gzip"), ("br;q=0, gzip", "gzip"), ("", None), ("*", "br")],
)
def test_serve_sends_the_precompressed_copy_the_browser_accepts(served, site, accept, encoding):
    response = served.get("/rapportera/", headers={"Accept-Encoding": accept})
    original = (site / "rapportera" / "index.html").read_bytes()

    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.mimetype == "text/html"
    assert encoding is None or "Content-Disposition" not in response.headers  # it would name the .br file
    opened = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda data: data}[encoding]
    assert opened(response.data) == original


def test_hashed_assets_are_kept_a_year_and_pages_and_named_assets_are_revalidated(served, site):
    css = served.get(f"/{MAIN_CSS}{stylesheet(site)}", headers={"Accept-Encoding": "gzip"})
    page = served.get("/rapportera/", headers={"Accept-Encoding": "gzip"})
    script = served.get("/assets/formkit.js")

    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert css.mimetype == "text/css" and css.headers["Content-Encoding"] == "gzip"
    assert page.headers["Cache-Control"] == script.headers["Cache-Control"] == "no-cache"
    assert script.mimetype == "text/javascript"
    again = served.get("/rapportera/", headers={"Accept-Encoding": "gzip", "If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304
    other = served.get("/rapportera/", headers={"Accept-Encoding": "br"})
    assert other.headers["ETag"] != page.headers["ETag"], "each encoding is its own representation"


def test_a_hashed_name_is_told_from_a_plain_one():
    assert (
        cache_control("main.57a0d79d.min.css") == cache_control("bundle.a5f9d56c.min.js") != cache_control("formkit.js")
    )
    assert cache_control("index.html") == cache_control("search_index.json") == "no-cache"


def test_a_file_without_copies_is_sent_as_it_is(tmp_path):
    (tmp_path / "plain.js").write_text("x")

    assert encoded(tmp_path / "plain.js", "br, gzip") == (tmp_path / "plain.js", None)


def test_live_reload_injects_its_script_into_a_compressed_page_and_packs_it_again(site, config):
    watched = LiveReload(create_app({**config, "PUBLIC_DIR": str(site)}), Builds())

    for accept, opened in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        response = Client(watched).get("/rapportera/", headers={"Accept-Encoding": accept})

        assert response.headers["Content-Encoding"] == accept
        page = opened(response.data).decode()
        assert f'<script src="{SCRIPT_URL}"' in page.rsplit("</body>", 1)[0][-200:]
