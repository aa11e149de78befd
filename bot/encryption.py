"""CX_ENCRYPTION_KEY: one Fernet key, or several separated by commas, newest first.

The first key encrypts; every key decrypts (`MultiFernet`), so a new key can be put in front of
the old one, `cxpulse rotate-keys` run, and the old key dropped afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet


def split_keys(value: str) -> tuple[str, ...]:
    """The keys of a CX_ENCRYPTION_KEY value, in order, blanks around each removed."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def multi_fernet(keys: str | tuple[str, ...]) -> MultiFernet:
    """Encrypts with the first key, decrypts with any (a comma-separated value or the keys)."""
    from cryptography.fernet import Fernet, MultiFernet

    found = split_keys(keys) if isinstance(keys, str) else keys
    if not found:
        raise ValueError("CX_ENCRYPTION_KEY holds no key")
    return MultiFernet([Fernet(key.encode()) for key in found])
