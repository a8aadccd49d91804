"""The site build: check the forms once, then build the site into a folder.

`formkit build`, `formkit serve` and its watcher all build here. The forms are checked before MkDocs
starts, so a broken one stops the build as plain lines (FormDefinitionError) rather than as an MkDocs
configuration error; the Markdown extension then reuses that check for every page instead of running
its own. The extension also runs under Zensical, which reads the same mkdocs.yml without this module.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .check import cached_check
from .compress import precompress
from .forms import Form

EXTENSION_NAMES = ("formkit", "handler.markdown_ext", "handler.markdown_ext:FormkitExtension")


@dataclass(frozen=True)
class Built:
    """A finished build: the checked forms, the folder the site went to, and the seconds it took."""

    forms: dict[str, Form]
    site_dir: Path
    seconds: float


def build(
    config_file: str | Path = "mkdocs.yml",
    site_dir: str | Path | None = None,
    *,
    schema_dir: str | Path | None = None,
    docs_dir: str | Path | None = None,
) -> Built:
    """Check the forms once, then build the MkDocs site into `site_dir` (else mkdocs.yml's site_dir).

    `schema_dir` and `docs_dir` default to the form extension's in mkdocs.yml, which are relative to
    that file's folder, like MkDocs' own docs_dir. A broken form raises FormDefinitionError.
    """
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.build import build as build_mkdocs
    from mkdocs.config import load_config

    started = time.perf_counter()
    config_path = Path(config_file).resolve()
    options = {"site_dir": str(Path(site_dir).resolve())} if site_dir else {}
    folders = tuple(str(Path(folder).resolve()) if folder else None for folder in (schema_dir, docs_dir))
    root, cwd = config_path.parent, Path.cwd()
    if root != cwd:
        os.chdir(root)
    try:
        forms = _checked_forms(config_path, *folders)  # before MkDocs loads the extension, which reuses it
        config = load_config(str(config_path), **options)
        build_mkdocs(config)
        precompress(Path(config["site_dir"]))  # .br and .gz beside each page and asset, for any web server
    finally:
        if root != cwd:
            os.chdir(cwd)
    return Built(forms, Path(config["site_dir"]), time.perf_counter() - started)


def _checked_forms(config_path: Path, schema_dir: str | None, docs_dir: str | None) -> dict[str, Form]:
    if schema_dir is None:
        configured = extension_folders(config_path)
        if configured is None:
            return {}  # the site places no forms
        schema_dir, docs_dir = configured
    return cached_check(schema_dir, docs_dir or None, fresh=True).ok()


def extension_folders(config_path: Path) -> tuple[str, str] | None:
    """Return the form extension's schema_dir and docs_dir as mkdocs.yml sets them, or None without it."""
    import yaml
    from mkdocs.exceptions import ConfigurationError
    from mkdocs.utils.yaml import yaml_load

    try:
        with open(config_path, encoding="utf-8") as file:
            config = yaml_load(file) or {}
    except (OSError, ValueError, yaml.YAMLError, ConfigurationError):
        return "schema", ""  # MkDocs itself will say what is wrong with the file
    for entry in (config.get("markdown_extensions") if isinstance(config, dict) else None) or []:
        name, options = next(iter(entry.items())) if isinstance(entry, dict) and entry else (entry, None)
        if name in EXTENSION_NAMES:
            options = options if isinstance(options, dict) else {}
            return str(options.get("schema_dir") or "schema"), str(options.get("docs_dir") or "")
    return None
