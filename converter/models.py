"""Teams, presets, jobs and their files. One Job model serves both front doors (web, API)
and both back ends (embedded engine, api2convert)."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Team(models.Model):
    class Engine(models.TextChoices):
        LOCAL = "local", "Embedded engine"
        API2CONVERT = "api2convert", "api2convert"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    personal = models.BooleanField(default=False)
    default_engine = models.CharField(max_length=20, choices=Engine, default=Engine.LOCAL)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by administrators (services/quotas.py, services/retention.py); empty means no limit
    # (retention: the site's RETENTION_DAYS).
    retention_days = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="Days results are kept. Empty: the site default.")
    quota_jobs_per_month = models.PositiveIntegerField(null=True, blank=True)
    quota_audio_minutes_per_month = models.PositiveIntegerField(null=True, blank=True)
    quota_max_file_mb = models.PositiveIntegerField(null=True, blank=True,
                                                    verbose_name="Quota max file (MiB)")
    quota_concurrent_jobs = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_convert(self) -> bool:
        return self.role != self.Role.VIEWER


class Invite(models.Model):
    """An invitation into a team: a link (only the SHA-256 of its token is kept) or addressed
    to one user by name. Single use, expiring."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=10, choices=Membership.Role, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="invites_received", help_text="Set for an invite by username.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invite to {self.team} as {self.role}"


class Preset(models.Model):
    """A team's saved set of options. Built-in presets live in converter/options.py."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="presets")
    name = models.CharField(max_length=255)
    options = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="preset_name_per_team")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApiKey(models.Model):
    """A key for the api2convert-compatible API. Only its prefix and a salted hash are kept."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    salt = models.CharField(max_length=32)
    key_hash = models.CharField(max_length=64)
    # Signs our callbacks (X-Oc-Signature); shown to the user with the key.
    signing_secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    usage_count = models.IntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class Api2convertAccount(models.Model):
    """A team's own api2convert API key, encrypted at rest."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="api2convert_account")
    key_encrypted = models.TextField()
    key_last4 = models.CharField(max_length=4)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_result = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"api2convert key …{self.key_last4} of {self.team}"


def _job_token() -> str:
    return secrets.token_hex(16)


class Job(models.Model):
    """A conversion. Status codes are api2convert's, whatever engine runs the job."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplete"
        QUEUED = "queued", "Queued"
        DOWNLOADING = "downloading", "Downloading"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    TERMINAL = (Status.COMPLETED, Status.FAILED, Status.CANCELED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    engine = models.CharField(max_length=20, choices=Team.Engine, default=Team.Engine.LOCAL)
    status = models.CharField(max_length=20, choices=Status, default=Status.INCOMPLETE)
    status_info = models.CharField(max_length=500, blank=True)
    progress = models.FloatField(default=0)
    # Validated options without download_password (only its hashes are kept).
    options = models.JSONField(default=dict)
    password_hashes = models.JSONField(default=list)
    # Per-job secret for uploads through the API (api2convert's job token).
    token = models.CharField(max_length=64, default=_job_token)
    errors = models.JSONField(default=list)
    warnings = models.JSONField(default=list)
    cancel_requested = models.BooleanField(default=False)
    # How many times a worker has started the job; the stuck-job reaper stops re-sending at
    # JOB_MAX_ATTEMPTS (converter/services/reaper.py).
    attempts = models.PositiveSmallIntegerField(default=0)
    # Queued while the broker could not be reached, so no message carries it: the reaper's next
    # sweep sends it (services/jobs.py _job_send). Read among the queued jobs (job_queued_oldest).
    unsent = models.BooleanField(default=False)
    callback = models.URLField(max_length=1000, blank=True)
    notify_status = models.BooleanField(default=False)
    # The absolute /v2 URL an API job was created through: the worker's callbacks link from it.
    api_base_url = models.URLField(max_length=300, blank=True)
    # api2convert jobs: the remote job and its polling state.
    remote_id = models.CharField(max_length=64, blank=True)
    remote_token = models.CharField(max_length=128, blank=True)
    remote_server = models.URLField(blank=True)
    # The download passwords, encrypted (providers/api2convert/crypto.py), kept only until
    # the submit has sent them to api2convert.
    remote_password_encrypted = models.TextField(blank=True)
    spent = models.IntegerField(default=0)
    # Usage (services/usage.py): input bytes from creation, the rest filled when the job ends.
    input_bytes = models.BigIntegerField(default=0)
    output_bytes = models.BigIntegerField(default=0)
    audio_seconds = models.FloatField(default=0)
    processing_seconds = models.FloatField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the retention task deletes the job's files (services/retention.py); set at finish.
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    expired = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        # One per history filter: the first page of any filter is an index range scan.
        indexes = [
            models.Index(fields=["team", "-created_at"], name="job_team_newest"),
            models.Index(fields=["team", "status", "-created_at"], name="job_team_status_newest"),
            models.Index(fields=["team", "created_by", "-created_at"], name="job_team_creator_newest"),
            models.Index(fields=["team", "engine", "-created_at"], name="job_team_engine_newest"),
            # The queued jobs, oldest first, for a worker that takes the next itself (services/drain.py):
            # a handful of rows, whatever the history holds.
            models.Index(fields=["created_at"], condition=models.Q(status="queued"),
                         name="job_queued_oldest"),
        ]

    def __str__(self):
        return f"Job {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def has_password(self) -> bool:
        return bool(self.password_hashes)

    @property
    def downloads_first(self) -> bool:
        """Whether running it starts in `downloading`: on api2convert (which fetches the inputs),
        or with an input the embedded engine must fetch first. A job of uploads on local
        storage goes straight to `processing`."""
        return self.engine != Team.Engine.LOCAL or any(job_input.fetched for job_input in self.inputs.all())


def input_upload_to(instance: "JobInput", filename: str) -> str:
    return f"jobs/{instance.job_id}/input/{instance.id}/{filename}"


def output_upload_to(instance: "JobOutput", filename: str) -> str:
    return f"jobs/{instance.job_id}/output/{instance.id}/{filename}"


class JobInput(models.Model):
    class Type(models.TextChoices):
        UPLOAD = "upload", "Upload"
        REMOTE = "remote", "URL"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="inputs")
    type = models.CharField(max_length=10, choices=Type)
    source = models.TextField(blank=True, help_text="The URL of a remote input.")
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=input_upload_to, max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    checksum = models.CharField(max_length=64, blank=True)
    # The password that opens the file when it is protected (an encrypted ZIP, a PDF): the
    # api2convert input's credentials.decrypt_password. Encrypted (services/passwords.py), and
    # kept only until the job has used it.
    decrypt_password_encrypted = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.filename

    @property
    def fetched(self) -> bool:
        """Whether a conversion must fetch it first: a URL, or an upload kept where it cannot be
        read in place (S3)."""
        if self.type == self.Type.REMOTE:
            return True
        try:
            self.file.storage.path(self.file.name)
        except NotImplementedError:
            return True
        return False


class JobOutput(models.Model):
    class Status(models.TextChoices):
        ENABLED = "enabled", "Enabled"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="outputs")
    status = models.CharField(max_length=10, choices=Status, default=Status.ENABLED)
    download_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=output_upload_to, max_length=500, blank=True)
    # An api2convert output is not copied: its URI is streamed through on download.
    remote_uri = models.URLField(max_length=1000, blank=True)
    content_type = models.CharField(max_length=100, default="audio/flac")
    size = models.BigIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True)
    duration = models.FloatField(null=True, blank=True)
    sample_rate = models.IntegerField(null=True, blank=True)
    bits_per_sample = models.IntegerField(null=True, blank=True)
    channels = models.IntegerField(null=True, blank=True)
    report = models.JSONField(default=dict)
    source_input = models.ForeignKey(JobInput, null=True, blank=True, on_delete=models.SET_NULL)
    downloads_counter = models.IntegerField(default=0)
    # The output's own download passwords (hashes), set through the API's PATCH of an output;
    # None: its job's apply.
    password_hashes = models.JSONField(null=True, blank=True, default=None)
    # Peak and RMS levels of its audio in slices (engine/waveform.py), measured the first time
    # its card shows them (services/waveforms.py); None until then.
    waveform = models.JSONField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.download_name

    @property
    def is_audio(self) -> bool:
        return self.content_type.startswith("audio/")

    @property
    def download_password_hashes(self) -> list[str]:
        return self.job.password_hashes if self.password_hashes is None else self.password_hashes

    @property
    def has_password(self) -> bool:
        return bool(self.download_password_hashes)


class JobEvent(models.Model):
    """One line of a job's own log, shown on its page: status changes, warnings, errors
    (written by converter/joblog.py)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=10, default="info")
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.level} {self.message}"


class CallbackDelivery(models.Model):
    """One callback (webhook) of a job: its JSON, POSTed to job.callback. Written in the same
    transaction as the status change it reports, so that a change that committed has its
    callback even when the broker was down or a worker died between two attempts (a
    transactional outbox: services/callbacks.py)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"  # refused (a 4xx, an address not allowed) or given up

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="callback_deliveries")
    status = models.CharField(max_length=20, choices=Job.Status)  # the one the body reports
    body = models.TextField()  # emptied once delivered
    state = models.CharField(max_length=20, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # While pending: when the reaper's sweep sends it again, should no worker have tried it by then.
    due_at = models.DateTimeField()
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "callback deliveries"
        indexes = [models.Index(fields=["due_at"], condition=models.Q(state="pending"),
                                name="callback_pending_due")]

    def __str__(self):
        return f"Callback {self.pk} of job {self.job_id} ({self.status}: {self.state})"

