"""The per-job callback URL given to api2convert, and checks on what arrives there.

A callback is only a hint: its body is never trusted; the job is re-read from the API.
"""

from api2convert import SignatureVerificationError, webhooks
from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from converter.models import Job


def callback_secret(job_id) -> str:
    """Derived from SECRET_KEY, so nothing extra is stored and it cannot be guessed."""
    return salted_hmac("api2convert-callback", str(job_id), algorithm="sha256").hexdigest()[:40]


def callback_url(job: Job) -> str:
    """The absolute callback URL, or "" when the app has no PUBLIC_URL to be reached at."""
    if not settings.PUBLIC_URL:
        return ""
    path = reverse("api2convert_callback", args=[job.pk, callback_secret(job.pk)])
    return settings.PUBLIC_URL + path


def callback_authentic(job_id, secret: str, body: bytes, signature: str | None) -> bool:
    """The URL's secret matches, the body is a JSON object and, when API2CONVERT_WEBHOOK_SECRET
    is set, the X-Oc-Signature (hex HMAC-SHA256 of the raw body) matches too."""
    if not constant_time_compare(secret, callback_secret(job_id)):
        return False
    try:
        # An empty secret skips the signature; the SDK still insists on a JSON object body.
        webhooks().construct_event(body, signature, settings.API2CONVERT_WEBHOOK_SECRET)
    except SignatureVerificationError:
        return False
    return True
