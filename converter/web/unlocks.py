"""Outputs unlocked with their password in this browser session, so that the page can show
their player and a plain download link without asking again. An unlock holds only for the
passwords it was made with: changing them locks every session out until the new one is given."""

from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from converter.models import JobOutput

SESSION_KEY = "unlocked_output_passwords"  # {output id: fingerprint of its password hashes}
MAX_REMEMBERED = 200


def _fingerprint(output: JobOutput) -> str:
    # Keyed and one-way: a session stored in a cookie gives nothing of the hashes away.
    return salted_hmac("converter.web.unlocks", "\n".join(output.download_password_hashes)).hexdigest()


def is_unlocked(request: HttpRequest, output: JobOutput) -> bool:
    if not output.has_password:
        return True
    return request.session.get(SESSION_KEY, {}).get(str(output.pk)) == _fingerprint(output)


def unlock(request: HttpRequest, output: JobOutput) -> None:
    unlocked = dict(request.session.get(SESSION_KEY, {}))
    unlocked.pop(str(output.pk), None)  # the newest last, so the oldest go first
    unlocked[str(output.pk)] = _fingerprint(output)
    request.session[SESSION_KEY] = dict(list(unlocked.items())[-MAX_REMEMBERED:])
