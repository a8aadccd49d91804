"""The register's encryption at rest: a report's answers as a Fernet token.

The key is FORMKIT_REGISTER_KEY when set, else derived from FORMKIT_SECRET_KEY; either way through
HKDF with the register's own salt, so it is never the key that signs answer links. Keys derived from
the secret key and its fallbacks are always accepted for reading, so answers stay readable when the
secret key is rotated or a register key is set later.
"""

from __future__ import annotations

import base64
import json
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger("formkit.register")
SALT = b"formkit.register"


class Sealer:
    """Encrypts answers with the first key; decrypts with any of them."""

    def __init__(self, register_key: str, secret_key: str, fallbacks: tuple[str, ...] = ()):
        keys = [key for key in (register_key, secret_key, *fallbacks) if key]
        # Without a key (a tool that only migrates or purges) nothing can be sealed or opened: said when tried.
        self._fernet = MultiFernet([_derive(key) for key in dict.fromkeys(keys)]) if keys else None

    def seal(self, answers: dict) -> bytes:
        """Return the answers as an encrypted token."""
        if self._fernet is None:
            raise ValueError("the register needs FORMKIT_REGISTER_KEY or FORMKIT_SECRET_KEY to encrypt answers")
        return self._fernet.encrypt(json.dumps(answers, ensure_ascii=False, separators=(",", ":")).encode())

    def open(self, token: bytes, reference: str) -> dict | None:
        """Return the answers of a token, or None (logged) when no key of ours opens it."""
        try:
            if self._fernet is None:
                raise ValueError("no key")
            return json.loads(self._fernet.decrypt(bytes(token)))
        except (InvalidToken, ValueError):
            log.error("reference=%s the kept answers cannot be decrypted with the configured keys", reference)
            return None


def _derive(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=b"answers").derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))
