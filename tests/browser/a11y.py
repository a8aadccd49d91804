"""Accessibility helpers for the browser tests: axe-core runs, the built site's pages, colour contrast.

`RECORD` keeps every page and state that axe checked and the rules that ran, for the summary
tests/conftest.py prints at the end of the run (and writes to test-artifacts/), with every xdist worker's.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
RESULT_TYPES = ("passes", "violations", "incomplete", "inapplicable")
AXE = Axe()
FORM_MARKER = re.compile(r'data-formkit="([a-z][a-z0-9-]*)"')

# What has the keyboard focus: whether it is on screen, its focus ring and the first background behind it.
FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  const box = e.getBoundingClientRect();
  const onScreen = box.width > 0 && box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.top < innerHeight;
  let behind = 'rgb(255, 255, 255)';
  for (let p = e.parentElement; p; p = p.parentElement) {
    const colour = getComputedStyle(p).backgroundColor;
    if (!/rgba\\(.*, 0\\)$/.test(colour) && colour !== 'transparent') { behind = colour; break; }
  }
  return {
    tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '', id: e.id,
    label: e.getAttribute('aria-label') || '', text: e.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60),
    visible: e.checkVisibility({opacityProperty: true, visibilityProperty: true}) && onScreen,
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
    outlineColor: style.outlineColor, boxShadow: style.boxShadow, behind: behind,
  };
}"""


@dataclass
class Record:
    """What axe checked: (state, rules that ran, violations) per run, and every rule id seen."""

    states: list[tuple[str, int, int]] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)

    def summary(self) -> str:
        """Return the summary as lines of text."""
        violations = sum(found for _, _, found in self.states)
        lines = [f"axe-core {AXE_VERSION}, {', '.join(TAGS)}: {len(self.states)} pages/states, {violations} violations"]
        lines += [f"  {rules:3d} rules, {found} violations: {state}" for state, rules, found in self.states]
        lines.append(f"  {len(self.rules)} distinct rules ran in all: {', '.join(sorted(self.rules))}")
        return "\n".join(lines)

    def as_data(self) -> dict:
        """What an xdist worker hands its controller (plain lists, as execnet sends them)."""
        return {"states": [list(state) for state in self.states], "rules": sorted(self.rules)}

    def add(self, data: dict) -> None:
        """Add what another process's record held (`as_data`)."""
        self.states += [tuple(state) for state in data["states"]]
        self.rules |= set(data["rules"])

    def report(self, terminalreporter) -> None:
        """Print the summary at the end of the run and keep a copy in test-artifacts/axe-summary.txt."""
        if self.states:
            summary = self.summary()
            terminalreporter.write_sep("-", "accessibility")
            terminalreporter.write_line(summary)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "axe-summary.txt").write_text(summary + "\n", encoding="utf-8")


RECORD = Record()
AXE_VERSION = re.search(r"axe v([\d.]+)", AXE.axe_script[:200]).group(1)


def audit(page: Page, state: str) -> None:
    """Run axe-core with the WCAG 2.0/2.1 A and AA rules on the page as it is now; fail on any violation.

    Colour transitions (a button taking focus) are let finish first: axe measures contrast mid-fade
    otherwise, against a colour no one ever reads.
    """
    page.wait_for_function("document.getAnimations().every(animation => animation.playState !== 'running')")
    results = AXE.run(page, options=OPTIONS)
    ran = {rule["id"] for kind in RESULT_TYPES for rule in results.response[kind]}
    RECORD.states.append((state, len(ran), results.violations_count))
    RECORD.rules |= ran
    assert results.violations_count == 0, f"{state} ({page.url}):\n{results.generate_report()}"


def audit_without_javascript(page: Page, inspector: Page, state: str) -> None:
    """Audit what a browser without JavaScript shows: its DOM, reloaded in `inspector` with scripts blocked.

    axe needs JavaScript, and a page with JavaScript switched off runs none (not even promises), so the
    no-JS page's DOM is served again at the same address with a CSP that blocks every page script.
    """
    html, url = page.content(), page.url.split("#")[0]

    def serve(route):
        headers = {"content-type": "text/html; charset=utf-8", "content-security-policy": "script-src 'none'"}
        route.fulfill(status=200, headers=headers, body=html)

    inspector.route(url, serve)
    try:
        inspector.goto(url)
        assert inspector.evaluate("!document.querySelector('.formkit-add, .formkit-remove')"), "scripts ran"
        audit(inspector, state)
    finally:
        inspector.unroute(url, serve)


def site_paths(built_site: Path) -> list[str]:
    """Return the path of every page the built site's sitemap.xml lists."""
    tree = ET.parse(built_site / "sitemap.xml")
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    return [urlsplit(loc.text.strip()).path for loc in tree.getroot().findall("s:url/s:loc", namespace)]


def forms_on_pages(built_site: Path) -> list[tuple[str, str]]:
    """Return (page path, form id) for every form placed on a page of the sitemap."""
    found = []
    for path in site_paths(built_site):
        html = (built_site / path.lstrip("/") / "index.html").read_text(encoding="utf-8")
        found += [(path, form_id) for form_id in dict.fromkeys(FORM_MARKER.findall(html))]
    return found


def same_origin(url: str, origin: str) -> bool:
    """Return whether a request for `url` stays on `origin` (data:, blob: and about: never leave the page)."""
    parts = urlsplit(url)
    return parts.scheme not in ("http", "https", "ws", "wss") or f"{parts.scheme}://{parts.netloc}" == origin


def luminance(rgb: tuple[float, float, float]) -> float:
    """Return the relative luminance of an sRGB colour (WCAG 2.1 definition)."""

    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple, b: tuple) -> float:
    """Return the contrast ratio of two colours, from 1 to 21."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def parse_colour(css: str) -> tuple[float, float, float, float]:
    """Return (r, g, b, alpha) from a computed colour like `rgb(1, 2, 3)` or `rgba(1, 2, 3, 0.5)`."""
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    return (*numbers[:3], numbers[3] if len(numbers) > 3 else 1.0)


def assert_focus_is_visible(focused: dict) -> float:
    """Assert a visible two-colour focus ring (WCAG C40) with 3:1 against the background; return that contrast."""
    where = f"{focused['tag']} {focused['name'] or focused['label'] or focused['text']!r}"
    assert focused["visible"], f"{where}: the focused element is on screen and visible"
    assert focused["outlineStyle"] == "solid" and focused["outlineWidth"] >= 2, f"{where}: outline {focused}"
    ring = re.match(r"(rgba?\([^)]*\)) 0px 0px 0px (\d+)px", focused["boxShadow"])
    assert ring and int(ring.group(2)) >= 2, f"{where}: an inner ring: {focused['boxShadow']}"
    outline, inner, behind = (parse_colour(c)[:3] for c in (focused["outlineColor"], ring.group(1), focused["behind"]))
    assert contrast(outline, inner) >= 9, f"{where}: the ring's two colours differ by 9:1 (C40)"
    best = max(contrast(outline, behind), contrast(inner, behind))
    assert best >= 3, f"{where}: focus ring has {best:.2f}:1 against {focused['behind']}"
    return best


def walk_tab_stops(page: Page, limit: int = 150) -> list[dict]:
    """Press Tab until focus leaves the page; assert every stop shows its focus ring; return the stops."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["tag"] == "body":
            return stops
        focused["contrast"] = assert_focus_is_visible(focused)
        stops.append(focused)
    raise AssertionError(f"{page.url}: Tab did not leave the page after {limit} stops")
