"""Secrets at rest (a team's api2convert key, a job's download password until it is sent).

MultiFernet over settings.FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts,
so keys rotate by putting a new one first and running `manage.py rotate_api2convert_keys`.
With no keys configured, one is derived from SECRET_KEY for the embedded setup.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt", "reencrypt"]


def _fernet() -> MultiFernet:
    keys = [key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip()]
    if not keys:
        digest = hashlib.sha256(b"converter.field-encryption:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Raises InvalidToken when no configured key opens it."""
    return _fernet().decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """The same secret under the first key."""
    return _fernet().rotate(token.encode()).decode()
