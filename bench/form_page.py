"""The form page against a React schema-form page of the same schema: bytes and time to the first visible field.

    .venv/bin/python bench/form_page.py [--runs 7] [--peer-dir DIR]

Builds the site from a copy of docs/, schema/, site/ and mkdocs.yml, and a peer page that renders
schema/bus-avvikelse.json with @rjsf/core and @rjsf/validator-ajv8 (React), installed from npm and
bundled (minified, production React) with esbuild into a temporary folder (or --peer-dir, kept for
the next run). Then loads each page in Chromium (Playwright, /usr/bin/chromium, a new context and
the cache disabled for every load) and measures

- bytes: what went over the wire (encoded bodies and headers) for the page and everything it
  fetched until a second after its load event (Material's search fetches its index and stemmers
  then), less formkit serve's live-reload stream;
- first field: from navigation start until a field of the form (an input, select or textarea that
  is laid out and not hidden) is on screen: the first animation frame that has one (a page held back
  by render-blocking CSS, or waiting for its script, runs no frames until then), or the first
  contentful paint when that comes later (the field's frame is painted no earlier than the page's
  first paint).

Three servings, each page of a pair served the same way:
- `formkit serve`, as `make serve` runs it (werkzeug, the build's precompressed `.br`/`.gz` files when
  the browser accepts them), against the peer page from a plain static server (no compression);
- production-like: a static server (HTTP/1.1 keep-alive) that sends precompressed `.gz` files
  (gzip -9, made here from a copy of the built site) with Cache-Control headers, for both pages;
- nginx with the README's production configuration (`NGINX_SITE`: gzip_static, brotli_static,
  Cache-Control by name), both pages precompressed as `formkit build` does; when /usr/sbin/nginx
  and its brotli_static module are installed (Debian: nginx, libnginx-mod-http-brotli-static).

Loads the kit's page and the peer's in turn (so a busy spell of the machine meets both) and prints the medians of
--runs loads side by side with the ratios and the issue's targets (at most a
third of the peer's bytes, at most half its time to the first field).
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import mimetypes
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FORM_PAGE = "/rapportera/"
KIT_FIELDS = ", ".join(
    f'form[action*="/api/forms/"] {tag}' for tag in ("input:not([type=hidden])", "select", "textarea")
)
PEER_FIELDS = "form input:not([type=hidden]), form select, form textarea"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE_RELOAD = "/__formkit/"  # formkit serve's live reload (development only): not the page's weight
PEER_PACKAGES = [
    "@rjsf/core@6.11.1",
    "@rjsf/utils@6.11.1",
    "@rjsf/validator-ajv8@6.11.1",
    "ajv@8.20.0",
    "react@19.3.1",
    "react-dom@19.3.1",
    "esbuild@0.28.2",
]
PEER_ENTRY = """\
import { createRoot } from "react-dom/client";
import Form from "@rjsf/core";
import { customizeValidator } from "@rjsf/validator-ajv8";
import Ajv2020 from "ajv/dist/2020";
import schema from "./schema.json";

// The schema is draft 2020-12, so Ajv's 2020 build validates it.
const validator = customizeValidator({ AjvClass: Ajv2020 });
createRoot(document.getElementById("root")).render(<Form schema={schema} validator={validator} />);
"""
PEER_PAGE = """\
<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rapportera en BUS-avvikelse</title>
<script defer src="/bundle.js"></script>
</head>
<body>
<main><h1>Rapportera en BUS-avvikelse</h1><div id="root"></div></main>
</body>
</html>
"""
# Runs before any of the page's own scripts: watches each animation frame for the first visible field.
DETECTOR = """\
(() => {
  const selector = %s;
  const shown = (element) => {
    const box = element.getBoundingClientRect(), style = getComputedStyle(element);
    return box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && style.visibility !== "hidden" && style.opacity !== "0";
  };
  const frame = () => {
    const field = [...document.querySelectorAll(selector)].find(shown);
    if (field) {
      window.__firstField = { ms: performance.now(), top: field.getBoundingClientRect().top, name: field.name };
    } else {
      requestAnimationFrame(frame);
    }
  };
  requestAnimationFrame(frame);
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process=None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            sys.exit(f"the server on port {port} stopped")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"nothing answers on port {port}")
            time.sleep(0.1)


# ---- what is served ----


def build_site(work: Path) -> Path:
    """Copy what the build reads into `work/project`, build it there; return the project folder."""
    project = work / "project"
    for name in ("docs", "schema", "site"):
        shutil.copytree(ROOT / name, project / name)
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FORMKIT_")} | {"NO_MKDOCS_2_WARNING": "1"}
    subprocess.run([str(BIN / "formkit"), "build"], cwd=project, env=environment, check=True, capture_output=True)
    return project


def build_peer(folder: Path) -> Path:
    """Install the React schema-form packages from npm and bundle the peer page into `folder/public`."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "node_modules" / "@rjsf" / "core").is_dir():
        (folder / "package.json").write_text('{"name": "formkit-peer", "private": true}\n')
        npm = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *PEER_PACKAGES]
        subprocess.run(npm, cwd=folder, check=True)
    shutil.copy(ROOT / "schema" / "bus-avvikelse.json", folder / "schema.json")
    (folder / "index.jsx").write_text(PEER_ENTRY)
    public = folder / "public"
    public.mkdir(exist_ok=True)
    (public / "index.html").write_text(PEER_PAGE)
    esbuild = [str(folder / "node_modules" / ".bin" / "esbuild"), "index.jsx", "--bundle", "--minify"]
    esbuild += ["--jsx=automatic", '--define:process.env.NODE_ENV="production"', "--legal-comments=none"]
    subprocess.run([*esbuild, f"--outfile={public / 'bundle.js'}"], cwd=folder, check=True, capture_output=True)
    return public


def precompressed(public: Path, target: Path) -> Path:
    """Copy a built site and put a gzip -9 `.gz` beside every file worth compressing; return the copy."""
    shutil.copytree(public, target)
    for path in target.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map"):
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes(), 9, mtime=0))
    return target


class StaticFiles(http.server.SimpleHTTPRequestHandler):
    """A production-like static server: keep-alive, caching headers, and precompressed `.gz` when present."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body are two writes: without this, Nagle's algorithm holds the body back until the
        # browser's delayed ACK (40 ms a response on Linux), as web servers' tcp_nodelay avoids.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?", 1)[0].endswith("/"):
                self.send_response(301)
                self.send_header("Location", urllib.parse.urlsplit(self.path).path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            path = path / "index.html"
        if not path.is_file():
            self.send_error(404)
            return None
        encoded = path.with_name(path.name + ".gz")
        gzipped = "gzip" in self.headers.get("Accept-Encoding", "") and encoded.is_file()
        body = (encoded if gzipped else path).read_bytes()
        self.send_response(200)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.send_header("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else ""))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Cache-Control", "no-cache" if path.suffix == ".html" else "public, max-age=86400")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return _Bytes(body)

    def log_message(self, *args):
        pass


class _Bytes:
    def __init__(self, data: bytes):
        self.data = data

    def read(self, *_):
        data, self.data = self.data, b""
        return data

    def close(self):
        pass


def serve_static(folder: str, port: int) -> None:
    """Serve `folder` on loopback until killed (run in its own process, so it never shares the browser's GIL)."""
    handler = lambda *args: StaticFiles(*args, directory=folder)  # noqa: E731
    http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()


def start_static(folder: Path) -> tuple[multiprocessing.Process, str]:
    port = free_port()
    process = multiprocessing.Process(target=serve_static, args=(str(folder), port), daemon=True)
    process.start()
    wait_for_port(port)
    return process, f"http://127.0.0.1:{port}"


# The README's production configuration ("Production configuration"), as a whole nginx.conf around it.
NGINX_SITE = r"""
    gzip_static on;
    brotli_static on;
    gzip_vary on;
    location / {
        add_header Cache-Control "no-cache" always;
        add_header X-Content-Type-Options nosniff always;
        try_files $uri $uri/ =404;
    }
    location ~ "\.[0-9a-f]{8,}\.(min\.)?(css|js)$" {
        add_header Cache-Control "public, max-age=31536000, immutable" always;
        add_header X-Content-Type-Options nosniff always;
    }
"""
NGINX = Path("/usr/sbin/nginx")
BROTLI_MODULE = Path("/usr/share/nginx/modules/ngx_http_brotli_static_module.so")


def start_nginx(work: Path, roots: dict[str, Path]) -> tuple[subprocess.Popen, dict[str, str]] | None:
    """Start nginx serving each root on a port of its own with NGINX_SITE; return it and the addresses."""
    if not (NGINX.exists() and BROTLI_MODULE.exists()):
        return None
    ports = {name: free_port() for name in roots}
    servers = "".join(
        f"  server {{\n    listen 127.0.0.1:{ports[name]};\n    root {root};\n{NGINX_SITE}  }}\n"
        for name, root in roots.items()
    )
    folder = work / "nginx"
    folder.mkdir()
    work.chmod(0o755)  # nginx's workers (www-data when started as root) must reach the sites in the temp folder
    config = folder / "nginx.conf"
    config.write_text(
        f"load_module {BROTLI_MODULE};\ndaemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'};\nevents {{}}\nhttp {{\n  include /etc/nginx/mime.types;\n"
        f"  access_log off;\n  sendfile on;\n  tcp_nodelay on;\n  client_body_temp_path {folder};\n"
        f"  proxy_temp_path {folder};\n  fastcgi_temp_path {folder};\n  uwsgi_temp_path {folder};\n"
        f"  scgi_temp_path {folder};\n{servers}}}\n"
    )
    process = subprocess.Popen([str(NGINX), "-c", str(config), "-e", str(folder / "error.log")])
    for port in ports.values():
        wait_for_port(port, process)
    return process, {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}


def start_formkit_serve(project: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FORMKIT_")} | {"NO_MKDOCS_2_WARNING": "1"}
    command = [str(BIN / "formkit"), "serve", "--no-build", "--host", "127.0.0.1", "--port", str(port)]
    log = (project / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=project, env=environment, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    wait_for_port(port, process)
    return process, f"http://127.0.0.1:{port}"


# ---- measuring in Chromium ----


def load_once(browser, url: str, selector: str) -> dict:
    """Load `url` in a fresh context with the cache off; return bytes, first field, first paint and load (ms)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="sv-SE")
    try:
        page = context.new_page()
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        finished = []
        page.on("requestfinished", lambda request: finished.append(request))
        page.add_init_script(DETECTOR % json.dumps(selector))
        page.goto(url, wait_until="load")
        page.wait_for_function("window.__firstField !== undefined", timeout=30_000)
        timings = page.evaluate(
            """() => ({
              field: window.__firstField,
              paint: (performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime,
              load: performance.getEntriesByType("navigation")[0].loadEventEnd,
            })"""
        )
        page.wait_for_timeout(1000)  # what the page fetches just after loading is part of its weight
        weighed = [request for request in finished if LIVE_RELOAD not in request.url]
        sizes = [request.sizes() for request in weighed]
        encodings = {(request.response().headers.get("content-encoding") or "identity") for request in weighed}
        return {
            "encodings": ", ".join(sorted(encodings)),
            "bytes": sum(size["responseBodySize"] + size["responseHeadersSize"] for size in sizes),
            "requests": len(weighed),
            "field_ms": max(timings["field"]["ms"], timings["paint"] or 0.0),
            "field_top": timings["field"]["top"],
            "paint_ms": timings["paint"] or 0.0,
            "load_ms": timings["load"],
        }
    finally:
        context.close()


def measure(browser, kit_url: str, peer_url: str, runs: int) -> tuple[dict, dict]:
    """Load the two pages in turn, `runs` times each, and return the medians of each: a slow spell of the
    machine (other work on its two cores) then meets both pages alike, and the ratio is of one run."""
    pages = ((kit_url, KIT_FIELDS), (peer_url, PEER_FIELDS))
    for url, selector in pages:
        load_once(browser, url, selector)  # the servers' first answer (imports, disk) is not the page's
    loads: tuple[list, list] = ([], [])
    for _ in range(runs):
        for (url, selector), kept in zip(pages, loads, strict=True):
            kept.append(load_once(browser, url, selector))
    return tuple(_medians(kept) for kept in loads)


def _medians(loads: list[dict]) -> dict:
    medians = {key: statistics.median(load[key] for load in loads) for key in loads[0] if key != "encodings"}
    return {**medians, "encodings": loads[-1]["encodings"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="loads of each page, the median is printed")
    parser.add_argument("--peer-dir", type=Path, help="where to install and bundle the peer page (kept); default temp")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="formkit-form-page-"))
    project = build_site(work)
    peer = build_peer(args.peer_dir or work / "peer")
    sites = {
        "kit": precompressed(project / "public", work / "kit-gz"),
        "peer": precompressed(peer, work / "peer-gz"),
    }
    started = []
    try:
        serve, serve_url = start_formkit_serve(project)
        started.append(serve)
        plain_peer, plain_peer_url = start_static(peer)
        kit_gz, kit_gz_url = start_static(sites["kit"])
        peer_gz, peer_gz_url = start_static(sites["peer"])
        started += [plain_peer, kit_gz, peer_gz]
        pairs = [
            ("formkit serve / plain static", serve_url + FORM_PAGE, plain_peer_url + "/"),
            ("precompressed static", kit_gz_url + FORM_PAGE, peer_gz_url + "/"),
        ]
        from handler.compress import precompress

        peer_nginx = work / "peer-nginx"
        shutil.copytree(peer, peer_nginx)
        precompress(peer_nginx)  # .br and .gz, as `formkit build` writes them for the kit
        nginx = start_nginx(work, {"kit": project / "public", "peer": peer_nginx})
        if nginx is not None:
            started.append(nginx[0])
            pairs.append(("nginx, README's configuration", nginx[1]["kit"] + FORM_PAGE, nginx[1]["peer"] + "/"))
        else:
            print("nginx with brotli_static is not installed: its serving is left out", flush=True)
        results = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for label, kit_url, peer_url in pairs:
                kit, other = measure(browser, kit_url, peer_url, args.runs)
                results.append((label, kit, other))
            version = browser.version
            browser.close()
    finally:
        for process in started:
            process.terminate()
    print(f"Chromium {version}, 1280x800, cache off, median of {args.runs} loads; peer: {', '.join(PEER_PACKAGES[:2])}")
    print(f"{'':30} {'':28} {'the kit':>10} {'React peer':>11} {'kit/peer':>9}   target")
    for label, kit, other in results:
        rows = [
            ("bytes over the wire", "bytes", "{:10.0f}", "at most 0.33x"),
            ("requests", "requests", "{:10.0f}", ""),
            ("first visible field (ms)", "field_ms", "{:10.1f}", "at most 0.5x"),
            ("first contentful paint (ms)", "paint_ms", "{:10.1f}", ""),
            ("load event (ms)", "load_ms", "{:10.1f}", ""),
        ]
        for index, (name, key, shape, target) in enumerate(rows):
            ratio = kit[key] / other[key] if other[key] else float("nan")
            print(
                f"{label if index == 0 else '':30} {name:28} {shape.format(kit[key])} "
                f"{shape.format(other[key]):>11} {ratio:8.2f}x   {target}"
            )
        print(f"{'':30} the kit's first field is {kit['field_top']:.0f} px from the top (viewport 800 px)")
        print(f"{'':30} content encodings: the kit {kit['encodings']}; the peer {other['encodings']}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
