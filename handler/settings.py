"""Every FORMKIT_* setting, declared once (name, type, default, meaning), parsed and checked at start.

`load()` reads the environment, and `.env` in the current folder when there is one (a variable set in
the real environment wins), parses every value and gathers one plain line per bad value into a
SettingsError, so a start-up names every mistake at once. The result is a frozen `Settings`; modules
take the narrow part they need (`settings.smtp`, `.outbox`, `.links`, `.limits`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .values import (  # the readers; all still importable from here, as before values.py
    DATABASES,  # noqa: F401
    FALSE,  # noqa: F401
    KEY_LENGTH,
    MAKE_KEY,
    TRUE,
    address,
    address_or_empty,
    boolean,
    count,
    database_url,
    days,
    domain,
    keys,
    number,  # noqa: F401
    origins,
    port,
    rate_limit,
    register_key,
    seconds,
    size,
    storage_uri,
    text,
    timeout,
    web_address,
    whole,  # noqa: F401
)

PREFIX = "FORMKIT_"
KEY_FILE = Path("var") / "secret-key"  # development and tests: a random key, kept between runs


class SettingsError(ValueError):
    """One or more settings hold a bad value; `problems` has one plain line for each variable."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# ---- the declaration ----

SENDER = "Formulärtjänsten <no-reply@formkit.localhost>"
RATE = "30 per minute; 300 per hour"
DATABASE = "sqlite:///var/formkit.db"


@dataclass(frozen=True)
class Variable:
    """One setting: its name without the prefix, where it lands in Settings, how it is read, default, meaning."""

    name: str
    where: str  # "smtp.port": Settings.smtp.port
    read: Callable[[object], object]
    default: str  # as written in the environment or `.env`
    meaning: str
    secret: bool = False  # never echoed in a problem line

    @property
    def env(self) -> str:
        return PREFIX + self.name

    def problem(self, value, expected: str) -> str:
        """Return the one line that says this variable's value is bad and what is expected."""
        if self.secret:
            return f"{self.env} {expected}."
        shown = json.dumps(str(value)[:100], ensure_ascii=False)
        return f"{self.env}={shown} {expected}."


VARIABLES: tuple[Variable, ...] = (
    Variable("SCHEMA_DIR", "schema_dir", text, "schema", "the folder of form schemas, one JSON Schema per form"),
    Variable("DOCS_DIR", "docs_dir", text, "", "the pages that place the forms; empty: `docs` beside SCHEMA_DIR"),
    Variable("PUBLIC_DIR", "public_dir", text, "", "the built site, to dress the handler's own pages"),
    Variable("MAX_CONTENT_LENGTH", "max_content_length", size, "262144", "the largest request body taken, in bytes"),
    Variable("SMTP_HOST", "smtp.host", text, "", "the SMTP server; empty: each message is an .eml file in MAIL_DIR"),
    Variable("SMTP_PORT", "smtp.port", port, "25", "the SMTP server's port"),
    Variable("SMTP_USER", "smtp.user", text, "", "the SMTP login; empty: none"),
    Variable("SMTP_PASSWORD", "smtp.password", str, "", "the SMTP password, as written", secret=True),
    Variable("SMTP_STARTTLS", "smtp.starttls", boolean, "false", "whether to use STARTTLS (true/false, yes/no, 1/0)"),
    Variable("SMTP_TIMEOUT", "smtp.timeout", timeout, "10", "seconds one SMTP step may take"),
    Variable("SMTP_QUICK_TIMEOUT", "smtp.quick_timeout", timeout, "3", "the same, for the first try (after answering)"),
    Variable("MAIL_DIR", "smtp.mail_dir", text, "var/mail", "where the .eml files go when SMTP_HOST is empty"),
    Variable("MAIL_FROM", "mail.sender", address, SENDER, "the sender of every message"),
    Variable("MAIL_DOMAIN", "mail.domain", domain, "formkit.localhost", "the domain of the Message-IDs"),
    Variable("MAIL_REDIRECT", "mail.redirect", address_or_empty, "", "staging: every message to this one address"),
    Variable("DEFAULT_TO", "mail.default_to", address, "formular@formkit.localhost", "for forms naming no recipient"),
    Variable("OUTBOX_DIR", "outbox.dir", text, "var/outbox", "the folder outbox; empty (no PostgreSQL): serverless"),
    Variable("OUTBOX_RETRY_BASE", "outbox.retry_base", seconds, "30", "seconds to the first retry, then doubling"),
    Variable("OUTBOX_RETRY_MAX", "outbox.retry_max", seconds, "3600", "the longest wait between two tries, in seconds"),
    Variable("OUTBOX_MAX_AGE", "outbox.max_age", seconds, "259200", "seconds a message may fail before failed/"),
    Variable("OUTBOX_CLAIM_TIMEOUT", "outbox.claim_timeout", seconds, "300", "seconds until a sender's claim is stale"),
    Variable("OUTBOX_INTERVAL", "outbox.interval", timeout, "5", "the longest wait between the worker's rounds"),
    Variable("SECRET_KEY", "links.secret_key", text, "", "signs answer links; 32+ characters", secret=True),
    Variable("SECRET_KEY_FALLBACKS", "links.fallbacks", keys, "", "former keys, still accepted", secret=True),
    Variable("BASE_URL", "links.base_url", web_address, "http://127.0.0.1:8000", "where the site is, for the links"),
    Variable("REPLY_TOKEN_DAYS", "links.token_days", days, "180", "how many days an answer link works"),
    Variable("RATELIMIT", "limits.ratelimit", rate_limit, RATE, "accepted reports per client address; empty: off"),
    Variable("RATELIMIT_STORAGE_URI", "limits.storage_uri", storage_uri, "memory://", "where the limits' counts live"),
    Variable("RECIPIENT_RATELIMIT", "limits.recipient_ratelimit", rate_limit, "20 per hour", "reports per recipient"),
    Variable("ALLOWED_ORIGINS", "limits.allowed_origins", origins, "", "other web sites whose pages may post here"),
    Variable("TRUSTED_PROXIES", "limits.trusted_proxies", count, "0", "proxies in front whose X-Forwarded-* to trust"),
    Variable("DATABASE_URL", "register.database_url", database_url, DATABASE, "the register's database", secret=True),
    Variable("REGISTER_KEY", "register.key", register_key, "", "encrypts kept answers; empty: SECRET_KEY", secret=True),
    Variable("REGISTER_RETENTION_DAYS", "register.retention_days", count, "30", "days after the deadline answers stay"),
)
NAMES = frozenset(variable.name for variable in VARIABLES)


# ---- the typed result ----


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    starttls: bool
    timeout: float
    quick_timeout: float
    mail_dir: str


@dataclass(frozen=True)
class MailSettings:
    sender: str
    domain: str
    redirect: str
    default_to: str


@dataclass(frozen=True)
class OutboxSettings:
    dir: str  # "" = serverless mode
    retry_base: float
    retry_max: float
    max_age: float
    claim_timeout: float
    interval: float


@dataclass(frozen=True)
class LinkSettings:
    secret_key: str = field(repr=False)
    fallbacks: tuple[str, ...] = field(repr=False)
    base_url: str
    token_days: float


@dataclass(frozen=True)
class LimitSettings:
    ratelimit: str
    storage_uri: str
    recipient_ratelimit: str
    allowed_origins: tuple[str, ...]
    trusted_proxies: int


@dataclass(frozen=True)
class RegisterSettings:
    database_url: str = field(repr=False)  # may hold a password
    key: str = field(repr=False)  # "" = derived from the secret key
    retention_days: int


SECTIONS = dict(
    smtp=SmtpSettings,
    mail=MailSettings,
    outbox=OutboxSettings,
    links=LinkSettings,
    limits=LimitSettings,
    register=RegisterSettings,
)


@dataclass(frozen=True)
class Settings:
    schema_dir: str
    docs_dir: str
    public_dir: str
    max_content_length: int
    testing: bool
    development: bool
    smtp: SmtpSettings
    mail: MailSettings
    outbox: OutboxSettings
    links: LinkSettings
    limits: LimitSettings
    register: RegisterSettings

    def as_config(self) -> dict:
        """Return the uppercase Flask-config view (SMTP_HOST, …) that modules not yet moved to Settings read."""
        config: dict = {"TESTING": self.testing}
        for variable in VARIABLES:
            value = self
            for part in variable.where.split("."):
                value = getattr(value, part)
            config[variable.name] = list(value) if isinstance(value, tuple) else value
        return config


# ---- loading ----


def load(overrides: Mapping | None = None, environ: Mapping | None = None, *, development: bool = False) -> Settings:
    """Return the settings from `overrides` (names without FORMKIT_), else the environment, else the defaults.

    `environ` defaults to os.environ over `.env` in the current folder (not read when testing).
    Raise SettingsError with one line per bad value.
    """
    overrides = dict(overrides or {})
    testing = str(overrides.get("TESTING", "")).strip().lower() in TRUE
    if environ is None:
        environ = {**({} if testing else read_dotenv()), **os.environ}
    values: dict[str, object] = {}
    problems: list[str] = []
    for variable in VARIABLES:
        raw = overrides.get(variable.name, environ.get(variable.env, variable.default))
        raw = variable.default if raw is None else raw
        try:
            values[variable.where] = variable.read(raw)
        except ValueError as error:
            problems.append(variable.problem(raw, str(error)))
    values["links.secret_key"] = _secret_key(values, problems, production=not (development or testing), testing=testing)
    if problems:
        raise SettingsError(problems)
    sections = {
        name: kind(**{where.split(".", 1)[1]: value for where, value in values.items() if where.startswith(name + ".")})
        for name, kind in SECTIONS.items()
    }
    top = {where: value for where, value in values.items() if "." not in where}
    return Settings(**top, testing=testing, development=development, **sections)


def read_dotenv(path: str | Path = ".env") -> dict[str, str]:
    """Return the FORMKIT_* variables of a `.env` file (KEY=VALUE lines, quotes, comments), or {} without one."""
    if not Path(path).is_file():
        return {}
    from dotenv import dotenv_values

    return {name: value for name, value in dotenv_values(path).items() if value is not None}


def _secret_key(values: dict, problems: list[str], *, production: bool, testing: bool) -> str:
    """Return the key that signs answer links: the configured one, or in development a random one kept in var/."""
    chosen = values["links.secret_key"]
    if not testing:  # tests sign with short keys of their own; anywhere else a short key is a mistake
        if chosen and len(chosen) < KEY_LENGTH:
            problems.append(
                f"{PREFIX}SECRET_KEY has {len(chosen)} characters; answer links need a key of at least "
                f"{KEY_LENGTH}. Make one with: {MAKE_KEY}"
            )
        if any(len(former) < KEY_LENGTH for former in values.get("links.fallbacks", ())):
            problems.append(
                f"{PREFIX}SECRET_KEY_FALLBACKS holds a key shorter than {KEY_LENGTH} characters, which would let "
                "anyone forge answer links. Remove it, or replace it with a long one."
            )
    if chosen:
        return chosen
    if production:
        problems.append(
            f"{PREFIX}SECRET_KEY is not set: outside development the handler needs a key of at least "
            f"{KEY_LENGTH} characters to sign answer links. Make one with: {MAKE_KEY}"
        )
        return ""
    try:
        return development_key(KEY_FILE)
    except OSError as error:
        problems.append(
            f"{PREFIX}SECRET_KEY is not set and no development key could be kept in {KEY_FILE} "
            f"({error.strerror or error}). Set one; make it with: {MAKE_KEY}"
        )
        return ""


def development_key(path: Path) -> str:
    """Return the random key kept in `path` (0600), making it first when there is none yet."""
    if path.is_file() and len(path.read_text(encoding="utf-8").strip()) >= KEY_LENGTH:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temporary, path)  # whole or not at all; of several processes starting at once, one makes it
    except FileExistsError:  # another process made it just now, or it holds no usable key
        if len(path.read_text(encoding="utf-8").strip()) < KEY_LENGTH:
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()
