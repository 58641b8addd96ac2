"""Outputs unlocked with their password in this browser session, so that the page can show
their player and a plain download link without asking again."""

from django.http import HttpRequest

from converter.models import JobOutput

SESSION_KEY = "unlocked_outputs"


def is_unlocked(request: HttpRequest, output: JobOutput) -> bool:
    return not output.has_password or str(output.pk) in request.session.get(SESSION_KEY, [])


def unlock(request: HttpRequest, output: JobOutput) -> None:
    unlocked = request.session.get(SESSION_KEY, [])
    if str(output.pk) not in unlocked:
        request.session[SESSION_KEY] = [*unlocked, str(output.pk)][-200:]
