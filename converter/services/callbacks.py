"""Job callbacks (webhooks): POST the job's JSON to job.callback when its status changes.

As api2convert: on completed/failed, or on every change with notify_status; 3 s timeout;
retried (by the Celery task) on 5xx and network errors, never on 4xx. We also sign the body
(X-Oc-Signature, hex HMAC-SHA256 with the API key's signing secret), which the SDK verifies.
"""

import hashlib
import hmac
import json
import logging

import httpx
from django.db import transaction

from converter.api.serializers import job_json
from converter.broker import BROKER_UNREACHABLE
from converter.models import Job
from converter.url_safety import UrlRefused, public_request

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Oc-Signature"
TIMEOUT = 3.0
MAX_ATTEMPTS = 10
ALWAYS_SENT = (Job.Status.COMPLETED, Job.Status.FAILED)


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(retries: int) -> int:
    """Seconds before the next attempt: 5, 10, 20 … capped at 15 minutes."""
    return min(5 * 2**retries, 900)


def job_updated(job: Job, fields: dict) -> None:
    """Called with the fields just written to a job: send a callback once they are committed."""
    if "status" not in fields or not job.callback:
        return
    if job.notify_status or job.status in ALWAYS_SENT:
        # The body is this event's, read now; a retry repeats it rather than a later state.
        body = json.dumps(job_json(job, job.api_base_url))
        transaction.on_commit(lambda: _deliver(str(job.pk), body))


def _deliver(job_id: str, body: str) -> None:
    """Queue the callback's delivery, with its retries. With the broker unreachable (Redis
    restarting), one attempt now from this process instead, at most TIMEOUT: the job's own status
    write has committed and stands whatever this does, and a failed attempt is logged."""
    from converter import tasks  # tasks import services

    try:
        tasks.callback_deliver.delay(job_id, body)
    except BROKER_UNREACHABLE as exc:
        logger.warning("callback of job %s: the broker could not be reached (%s); sent once, now",
                       job_id, exc)
        callback_send(job_id, body)


def callback_send(job_id: str, body: str) -> bool:
    """POST one callback. False when it is worth retrying (5xx, timeout, network error)."""
    job = Job.objects.select_related("api_key").filter(pk=job_id).first()
    if job is None or not job.callback:
        return True
    content = body.encode()
    headers = {"Content-Type": "application/json", "User-Agent": "flacconv-callback/1"}
    if job.api_key is not None:
        headers[SIGNATURE_HEADER] = signature(job.api_key.signing_secret, content)
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            # Checked again, and sent to the checked address: the name may resolve elsewhere by now.
            response = client.send(public_request(client, "POST", job.callback, content=content,
                                                  headers=headers))
    except UrlRefused as exc:
        logger.warning("callback of job %s refused: %s", job_id, exc)
        return True
    except httpx.HTTPError as exc:
        logger.info("callback of job %s failed: %s", job_id, exc)
        return False
    logger.info("callback of job %s answered %s", job_id, response.status_code)
    return response.status_code < 500
