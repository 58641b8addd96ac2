"""Download passwords: only salted hashes are stored; any listed password unlocks. Input
passwords (what opens a protected input) are kept encrypted until the job has used them."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password

from converter.models import JobInput, Team
from converter.options import password_list
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


MAX_CANDIDATES = 10  # passwords tried from one request; each counts as one try for the throttle


def password_candidates(supplied: str | None) -> list[str]:
    """The passwords a request tries: its comma-separated list, at most MAX_CANDIDATES."""
    return password_list(supplied or "")[:MAX_CANDIDATES]


def password_matches(hashes: list[str], candidates: list[str]) -> bool:
    """True when no password is set, or any candidate matches."""
    if not hashes:
        return True
    # check_password compares in constant time.
    return any(check_password(candidate, encoded) for candidate in candidates for encoded in hashes)


MAX_INPUT_PASSWORD = 200  # characters


def input_password_encrypted(password: str) -> str:
    """The stored form of an input's password ("" for none); ValueError when it is too long."""
    if len(password) > MAX_INPUT_PASSWORD:
        raise ValueError(f"A file's password has at most {MAX_INPUT_PASSWORD} characters.")
    return crypto.encrypt(password) if password else ""


def input_password(job_input: JobInput) -> str:
    """The input's password in plain text; "" when it has none, or when the encryption keys
    changed without keeping the old one (the file then fails as protected, asking for it)."""
    encrypted = job_input.decrypt_password_encrypted
    try:
        return crypto.decrypt(encrypted) if encrypted else ""
    except crypto.InvalidToken:
        return ""


def input_passwords_forget(job_inputs: list[JobInput]) -> None:
    """Once a job has used its inputs' passwords: no query when none of them had one."""
    with_password = [job_input.pk for job_input in job_inputs if job_input.decrypt_password_encrypted]
    if with_password:
        JobInput.objects.filter(pk__in=with_password).update(decrypt_password_encrypted="")
