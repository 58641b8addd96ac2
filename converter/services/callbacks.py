"""Job callbacks (webhooks): POST the job's JSON to job.callback when its status changes.

As api2convert: on completed/failed, or on every change with notify_status; 3 s timeout;
retried on 5xx and network errors, never on 4xx. We also sign the body (X-Oc-Signature, hex
HMAC-SHA256 with the API key's signing secret), which the SDK verifies.

A transactional outbox: each callback is a CallbackDelivery row written in the transaction of
the status change it reports, and its Celery message only names the row and the attempt. So a
change that committed always gets its callback: with the broker down at the commit, or a worker
lost while a retry waited in it (the embedded broker's countdowns live in the worker's memory),
the reaper's next sweep sends the row once it is due (deliveries_due_send). An attempt is
claimed on the row before its POST, so a message sent twice POSTs once. Delivery is at least
once all the same, as api2convert's: a worker lost between the POST and the row's update leaves
it to be sent again.
"""

import hashlib
import hmac
import json
import logging
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from converter.api.serializers import job_json
from converter.broker import BROKER_UNREACHABLE
from converter.joblog import job_event
from converter.models import CallbackDelivery, Job
from converter.url_safety import UrlRefused, public_request

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Oc-Signature"
TIMEOUT = 3.0
MAX_ATTEMPTS = 10
ALWAYS_SENT = (Job.Status.COMPLETED, Job.Status.FAILED)
Delivery = CallbackDelivery.State


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(retries: int) -> int:
    """Seconds before the next attempt: 5, 10, 20 … capped at 15 minutes."""
    return min(5 * 2**retries, 900)


def _lease() -> timedelta:
    """How long a sent message has to reach a worker before the reaper sends it again: as long as
    a job may go without progress before the reaper takes its worker for lost."""
    return timedelta(seconds=settings.JOB_STALE_SECONDS)


def job_updated(job: Job, fields: dict) -> None:
    """Called, in the same transaction, with the fields just written to a job: keep the callback
    they call for, and send it once they are committed."""
    if "status" not in fields or not job.callback:
        return
    if job.notify_status or job.status in ALWAYS_SENT:
        # The body is this event's, read now; a retry repeats it rather than a later state.
        delivery = _kept(job, job.status, json.dumps(job_json(job, job.api_base_url)))
        transaction.on_commit(lambda: _send(delivery))


def _kept(job: Job, status: str, body: str) -> CallbackDelivery:
    """A new pending delivery, due for the reaper only if its first message is lost."""
    return CallbackDelivery.objects.create(job=job, status=status, body=body,
                                           due_at=timezone.now() + _lease())


def _send(delivery: CallbackDelivery, countdown: int = 0) -> bool:
    """Queue the delivery's next attempt, in `countdown` seconds. False when the broker cannot be
    reached (Redis restarting): the row, still pending, is then due when the attempt was, for the
    reaper's next sweep."""
    from converter import tasks  # tasks import services

    try:
        tasks.callback_deliver.apply_async((delivery.pk, delivery.attempts), countdown=countdown)
    except BROKER_UNREACHABLE as exc:
        logger.warning("callback %s of job %s: the broker could not be reached (%s); the reaper sends it",
                       delivery.pk, delivery.job_id, exc)
        CallbackDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
            due_at=timezone.now() + timedelta(seconds=countdown))
        return False
    return True


def delivery_from_before_the_outbox(job_id: str, body: str) -> None:
    """Keep, and send, a callback whose message an earlier version queued as (job id, body)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is not None:
        _send(_kept(job, json.loads(body).get("status", {}).get("code", job.status), body))


def delivery_attempt(delivery_id: int, attempt: int) -> None:
    """Make attempt number `attempt` (0 the first) of a delivery, unless another message made it."""
    # The claim: one message per attempt POSTs, whatever sent it (the commit, a retry, the reaper).
    this_attempt = CallbackDelivery.objects.filter(pk=delivery_id, state=Delivery.PENDING, attempts=attempt)
    lost_after = timezone.now() + timedelta(seconds=TIMEOUT) + _lease()  # then the reaper tries again
    if not this_attempt.update(attempts=attempt + 1, due_at=lost_after):
        return
    delivery = CallbackDelivery.objects.select_related("job__api_key").filter(pk=delivery_id).first()
    if delivery is None:  # its job was deleted meanwhile
        return
    outcome, error = callback_post(delivery.job, delivery.body)
    rows = CallbackDelivery.objects.filter(pk=delivery.pk)
    if outcome == "retry" and delivery.attempts < MAX_ATTEMPTS:
        delay = retry_delay(delivery.attempts - 1)
        # Due for the reaper only if the retry's message is lost.
        rows.update(last_error=error, due_at=timezone.now() + timedelta(seconds=delay) + _lease())
        _send(delivery, countdown=delay)
        return
    delivered = outcome == "delivered"
    # A delivered row keeps the error of the attempt before, if any (what the admin list shows),
    # but not its body, a few KB a status change that nothing reads again.
    rows.update(state=Delivery.DELIVERED if delivered else Delivery.FAILED, finished_at=timezone.now(),
                **({"last_error": error} if error else {}), **({"body": ""} if delivered else {}))
    if delivered:
        job_event(delivery.job, f"Callback ({delivery.status}) delivered to {delivery.job.callback}.")
    else:
        tries = f" after {delivery.attempts} attempts" if outcome == "retry" else ""
        job_event(delivery.job, f"Callback ({delivery.status}) to {delivery.job.callback} failed{tries}: "
                                f"{error}", logging.WARNING)


def callback_post(job: Job, body: str) -> tuple[str, str]:
    """POST one callback: ("delivered", "") on a 2xx, ("retry", why) on a 5xx, a timeout or a
    network error, ("refused", why) on a 4xx, a redirect or an address not allowed."""
    if not job.callback:  # removed by a PATCH since
        return "refused", "The job has no callback URL any more."
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
        logger.warning("callback of job %s refused: %s", job.pk, exc)
        return "refused", str(exc)[:300]
    except httpx.HTTPError as exc:
        logger.info("callback of job %s failed: %s", job.pk, exc)
        return "retry", (str(exc) or type(exc).__name__)[:300]
    logger.info("callback of job %s answered %s", job.pk, response.status_code)
    if response.status_code >= 500:
        return "retry", f"answered {response.status_code}"
    if response.status_code >= 400:
        return "refused", f"answered {response.status_code}"
    if response.status_code >= 300:
        return "refused", f"answered {response.status_code}, a redirect, which is not followed"
    return "delivered", ""


def deliveries_resend(deliveries) -> int:
    """An administrator's "send again" for failed deliveries (the receiver is fixed now): each gets
    MAX_ATTEMPTS new attempts, from now. Returns how many were sent again."""
    again = list(deliveries.filter(state=Delivery.FAILED))
    CallbackDelivery.objects.filter(pk__in=[delivery.pk for delivery in again]).update(
        state=Delivery.PENDING, attempts=0, finished_at=None, due_at=timezone.now() + _lease())
    for delivery in again:
        delivery.attempts = 0
        transaction.on_commit(lambda delivery=delivery: _send(delivery))
    return len(again)


def deliveries_due_send() -> int:
    """The reaper's part: send again the pending deliveries no worker has tried in time (queued
    while the broker was down, or lost with a worker), oldest first, until the broker refuses.
    Returns how many went."""
    sent = 0
    now = timezone.now()
    for delivery in CallbackDelivery.objects.filter(state=Delivery.PENDING, due_at__lte=now):
        if not _send(delivery):
            break
        CallbackDelivery.objects.filter(pk=delivery.pk, due_at=delivery.due_at).update(due_at=now + _lease())
        sent += 1
    return sent
