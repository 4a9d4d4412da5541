"""Passwords: hashing (argon2id; tests swap in cheap parameters via `configure`) and the list of
common passwords nobody may choose (common-passwords.md says where it comes from)."""

import functools
import gzip
from pathlib import Path

import argon2

_hasher = argon2.PasswordHasher()
# A fixed hash to verify against when the account does not exist, so a wrong
# email costs the same time as a wrong password (no enumeration by timing).
_dummy_hash = None


def configure(time_cost=None, memory_cost=None, parallelism=None):
    global _hasher, _dummy_hash
    defaults = argon2.PasswordHasher()
    _hasher = argon2.PasswordHasher(
        time_cost=time_cost or defaults.time_cost,
        memory_cost=memory_cost or defaults.memory_cost,
        parallelism=parallelism or defaults.parallelism,
    )
    _dummy_hash = None


def hash_password(password):
    return _hasher.hash(password)


def verify_password(password_hash, password):
    """True when `password` matches; also spends the time when there is no hash."""
    global _dummy_hash
    if not password_hash:
        _dummy_hash = _dummy_hash or _hasher.hash("not a real password")
        _safe_verify(_dummy_hash, password)
        return False
    return _safe_verify(password_hash, password)


def needs_rehash(password_hash):
    return _hasher.check_needs_rehash(password_hash)


def _safe_verify(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common-passwords.txt.gz"


@functools.cache
def common_passwords():
    with gzip.open(COMMON_PASSWORDS_FILE, "rt") as handle:
        return frozenset(line.strip() for line in handle if line.strip())
