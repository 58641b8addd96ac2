"""Download passwords: only salted hashes are stored; any listed password unlocks."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password

from converter.models import Team
from converter.providers.api2convert import crypto


class _DownloadPasswordHasher(PBKDF2PasswordHasher):
    # A download check may test several supplied passwords against several hashes, in the
    # request; login-strength iterations would make that take seconds. check_password reads
    # the iteration count from the stored hash, so the standard hasher verifies these.
    iterations = 60_000


def password_hashes_make(passwords: list[str]) -> list[str]:
    return [make_password(password, hasher=_DownloadPasswordHasher()) for password in passwords]


def password_fields(passwords: list[str], engine: str) -> dict:
    """A job's fields for its download passwords: the hashes downloads are checked against, and
    for an api2convert job the plaintext it must send once, at submit, kept encrypted until then."""
    remote = bool(passwords) and engine == Team.Engine.API2CONVERT
    return {"password_hashes": password_hashes_make(passwords),
            "remote_password_encrypted": crypto.encrypt(",".join(passwords)) if remote else ""}


def password_matches(hashes: list[str], supplied: str | None) -> bool:
    """True when no password is set, or any comma-separated supplied password matches."""
    if not hashes:
        return True
    candidates = [part for part in (supplied or "").split(",") if part][:10]
    # check_password compares in constant time.
    return any(check_password(candidate, encoded) for candidate in candidates for encoded in hashes)
