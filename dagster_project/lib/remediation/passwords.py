"""Password hashes: argon2id with argon2-cffi's default parameters (RFC 9106's low-memory
profile: 64 MiB, 3 passes, 4 lanes; above OWASP's minimum of 19 MiB and 2 passes).

Hashes written by earlier versions (scrypt, N = 2^14) still verify; `needs_rehash` tells
the caller to store a new argon2id hash after the next successful login.
"""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
_LEGACY_SCRYPT = "scrypt$"

# Verified against when the user name is unknown (or the user disabled), so that such a
# login costs the same hash as a wrong password of a real user: the time taken does not
# tell which names exist.
DUMMY_HASH = _HASHER.hash("no user has this password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith(_LEGACY_SCRYPT):
        return _verify_legacy_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a hash weaker than what `hash_password` writes today."""
    if stored.startswith(_LEGACY_SCRYPT):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_legacy_scrypt(password: str, stored: str) -> bool:
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt),
                                   n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)
