"""Encryption at rest for tokens (Trakt tokens, device codes).

The key is derived from TOKEN_ENCRYPTION_KEY when set, else SECRET_KEY: the web process and
the worker must share it. Rotating it makes stored tokens unreadable (`TokenDecryptError`),
which the token store turns into a "reconnect Trakt" state.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "fernet1:"


class TokenDecryptError(Exception):
    pass


def _fernet() -> Fernet:
    secret = (settings.TOKEN_ENCRYPTION_KEY or settings.SECRET_KEY).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"anilist-trakt-sync",
               info=b"token-encryption").derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return PREFIX + _fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise TokenDecryptError("the stored value is not encrypted")
    try:
        return _fernet().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise TokenDecryptError(
            "the stored token cannot be decrypted (SECRET_KEY or TOKEN_ENCRYPTION_KEY changed)"
        ) from None
