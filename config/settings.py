"""Settings, all from the environment (django-environ; every NAME may also come from NAME_FILE).

With no environment at all this runs the embedded defaults: SQLite under var/, a
filesystem Celery broker under var/, files under var/media. See README "Configuration".
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent



class _SecretFiles(environ.FileAwareMapping):
    """NAME_FILE (Docker/Kubernetes secrets) wins over NAME; its content loses the final
    newline that `echo … > file` or an editor leaves."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        return value.rstrip("\r\n") if self.env.get(f"{key}_FILE") else value


env = environ.FileAwareEnv()
env.ENVIRON = _SecretFiles()

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _embedded_secret_key() -> str:
    """A key generated once per installation and kept in var/, so `make run` needs no setup."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# One switch for a deployment behind HTTPS: secure cookies, SSL redirect, HSTS and JSON logs
# become the defaults (each still has its own variable), and SECRET_KEY must be given.
PRODUCTION = env.bool("PRODUCTION", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("PRODUCTION=1 needs SECRET_KEY (or SECRET_KEY_FILE).")
    SECRET_KEY = _embedded_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_URL = env.str("PUBLIC_URL", default="").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "converter",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "converter.request_length.ChunkedBodyRefusedMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "converter.web.polls.PollMiddleware",  # before the session: an unchanged job's poll needs none
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "converter.web.teams.ActiveTeamMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "converter.web.teams.team_context",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; IMMEDIATE avoids
    # "database is locked" on lock upgrades under concurrent writers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not a server: nothing to reconnect to, so a thread or task keeps its connection.
    DATABASES["default"]["CONN_MAX_AGE"] = None
    # A file, not memory, so that a Celery worker process started by the tests shares it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Download-password throttling counts in this cache (converter/services/password_throttle.py).
# Files under VAR_DIR by default, so that the web processes of one machine (gunicorn runs two)
# share the counts; with web processes on several machines, point CACHE_URL at Redis.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes counts failed sign-ins in the database (shared by every web process).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "converter.client_address.client_address"
# Without its start-up banner in every process's log; lockouts are still logged.
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "convert"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The Docker image collects static files into itself, not into the /data volume.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads, outputs and ZIPs go through Django's storage API: with an S3-compatible bucket,
# web and workers on different machines share files without a shared disk.
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
if STORAGE_BACKEND == "s3":
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME")
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
    # Read here rather than by boto3 so that the _FILE variants work too.
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
    AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="") or None
    AWS_LOCATION = env.str("AWS_LOCATION", default="")
    # Two uploads named alike must never replace each other; objects stay private (the app
    # proxies every download); files read whole spill to disk past 8 MiB, not to memory.
    AWS_S3_FILE_OVERWRITE = False
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_S3_MAX_MEMORY_SIZE = 8 * 1024**2
elif STORAGE_BACKEND != "local":
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be local or s3, not {STORAGE_BACKEND!r}.")

# Uploads stream to temporary files on disk, never into memory.
FILE_UPLOAD_TEMP_DIR = VAR_DIR / "tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(exist_ok=True)
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=2 * 1024**3)
MAX_UPLOAD_FILES = env.int("MAX_UPLOAD_FILES", default=50)
# One handler parses the whole body, writing files straight to FILE_UPLOAD_TEMP_DIR and enforcing
# the two limits above as it streams (converter/uploads.py says why not Django's parser).
FILE_UPLOAD_HANDLERS = ["converter.uploads.StreamingUploadHandler"]

# Where conversions run when a team picks nothing else.
CONVERTER_WORK_DIR = VAR_DIR / "work"
CONVERTER_WORK_DIR.mkdir(exist_ok=True)
# An output's waveform is measured in the request that first shows it up to this long (an hour of
# stereo: ~2.5 s); a longer one by a worker, so that no web thread decodes a day-long recording.
WAVEFORM_IN_REQUEST_SECONDS = env.int("WAVEFORM_IN_REQUEST_SECONDS", default=3600)
# Only for tests and trusted networks: lets URL inputs and callbacks reach private addresses.
ALLOW_PRIVATE_URLS = env.bool("ALLOW_PRIVATE_URLS", default=False)
API2CONVERT_BASE_URL = env.str("API2CONVERT_BASE_URL", default="https://api.api2convert.com/v2")
# api2convert jobs (docs/api2convert.md). Fernet keys, comma-separated: the first encrypts,
# all decrypt (rotation); empty means one derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
API2CONVERT_DEADLINE_SECONDS = env.int("API2CONVERT_DEADLINE_SECONDS", default=4 * 3600)
API2CONVERT_WEBHOOK_SECRET = env.str("API2CONVERT_WEBHOOK_SECRET", default="")
API2CONVERT_POLL_INTERVAL = env.float("API2CONVERT_POLL_INTERVAL", default=1.0)
API2CONVERT_POLL_MAX_INTERVAL = env.float("API2CONVERT_POLL_MAX_INTERVAL", default=5.0)
API2CONVERT_TIMEOUT = env.int("API2CONVERT_TIMEOUT", default=30)
API2CONVERT_MAX_RETRIES = env.int("API2CONVERT_MAX_RETRIES", default=2)

# Celery. The embedded default is kombu's filesystem transport: no server to run.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's transport, with messages written whole before they appear (converter/broker.py).
    CELERY_BROKER_TRANSPORT = "converter.broker:Transport"
    _queue_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
        # On Linux a waiting worker wakes on a message or, its prefetch full, on a job's end
        # (converter/broker.py); it polls only where inotify is missing. The default 1 s would then
        # be felt on every job, each waiting half of it on average for a free worker process
        # (bench/batch.py); polling every 0.02 s costs an idle worker ~1 % of a core.
        "polling_interval": 0.02,
    }
    # Celery runs a polled broker in its blocking loop, with the pool in threaded mode: by default
    # the loop hands the pool a message only once a pool process is free, through three threads,
    # while that process's core idles (4-5 ms a job). Without the lock the prefetched messages wait
    # in the pool's one shared queue and a process that ends a job takes the next at once (3-3.5
    # ms); a message still goes to the first process free, never behind a long job. The main
    # process then takes messages while the pool converts, as batch work (tasks.py). A batch of
    # 40 (bench/batch.py), 8 alternated pairs of runs: better in 6, by 0.035x on average.
    CELERY_WORKER_POOL_PUTLOCKS = False
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
# Installations sharing one broker keep apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
# A job survives a worker killed mid-conversion: the message is acknowledged only
# after the task ends, and redelivered if the worker vanishes.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Messages a worker holds per pool process. With 1, a process that finishes a job gets the next
# only once the worker has acknowledged the last and looked at the broker again: the filesystem
# broker is polled, so each job waited 0-20 ms for the next poll plus Celery's hand-over (from
# the end of one job to the start of the next in a process: median 18-20 ms, next to ~75 ms of
# work for a 30-second clip; bench/batch.py). With 2 the next message is already in the worker
# and goes to the first free process at once (8-11 ms, mostly the job's own writes). The cost: a
# worker holds up to one queued job per process that another worker could have started, and a
# warm shutdown runs those too before it exits. The embedded broker is one machine's queue with
# one worker, so that holds nothing back from anyone; Redis and RabbitMQ push messages (no poll
# to wait for) to several workers, where a held job could wait hours behind a long one: 1 there.
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER",
                                            default=2 if CELERY_BROKER_URL.startswith("filesystem://") else 1)
# Celery's Django fixup closes the connections before and after every task, so each job opened
# its database afresh: ~1 ms and a cold page cache on SQLite, 6 ms on PostgreSQL (a server process
# forked, sign-in, session setup), twice the job's own queries. A pool process keeps its connection
# instead (Celery reopens it every 1000 tasks), and tasks.py checks it before each task as Django
# does before each request: closed past CONN_MAX_AGE or after an error, health-checked
# (CONN_HEALTH_CHECKS) by the task's first query, so a restarted server costs no job
# (tests/faults/test_database_restart.py).
CELERY_DB_REUSE_MAX = 1000
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# One job run may take this long: the soft limit fails the job cleanly, the hard one kills it.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3 * 3600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT + 300)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://")):
    # Redis emulates acks: a message not acknowledged within visibility_timeout goes back to the
    # queue. Above the hard time limit, so a long job is never handed to a second worker while
    # it runs; a killed worker's message comes back after it. The restore sweep runs every tenth
    # of it (kombu's default is every ~100 s whatever the timeout).
    _visibility = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 600)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility,
        "unacked_restore_interval": min(max(_visibility // 10, 1), 60),
        "unacked_restore_throttle": 1,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The stuck-job reaper (converter/services/reaper.py): a running job with no progress write for
# JOB_STALE_SECONDS lost its worker; it is re-sent up to JOB_MAX_ATTEMPTS starts, then failed.
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=15 * 60)
JOB_REAP_INTERVAL = env.float("JOB_REAP_INTERVAL", default=60.0)  # seconds between the reaper's sweeps
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
# A pool process that ran a job's message takes the next queued local jobs from the database
# itself for up to this long (converter/services/drain.py); 0 leaves every job to its message.
JOB_DRAIN_SECONDS = env.float("JOB_DRAIN_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE = {
    "jobs-reap": {"task": "converter.jobs_reap", "schedule": JOB_REAP_INTERVAL},
}
# Retention (converter/services/retention.py): a job's files are deleted RETENTION_DAYS after it
# ends unless its team has its own period; beat looks for due jobs every RETENTION_SWEEP_SECONDS.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=7)
CELERY_BEAT_SCHEDULE["retention-expire"] = {
    "task": "converter.retention_expire", "schedule": env.float("RETENTION_SWEEP_SECONDS", default=3600.0),
}
# Beat remembers last run times here: under VAR_DIR, not in the working directory.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# django-csp 4: htmx needs no inline script or eval when its indicator styles are off.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# How long a polled fragment's token lets a poll of an unchanged job skip the session, the user and
# the team (converter/web/polls.py): also how long a signed-out or removed member may still learn
# "unchanged" about a job they were shown.
POLL_TOKEN_SECONDS = env.int("POLL_TOKEN_SECONDS", default=60)
# An API key's last use and request count are written at most this often per key and web process
# (converter/services/key_usage.py); 0 writes them on every request.
API_KEY_USAGE_WRITE_EVERY = env.float("API_KEY_USAGE_WRITE_EVERY", default=10.0)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=PRODUCTION)
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)

# One JSON object per line in production (job_id, team and engine on a job's records:
# converter/joblog.py); plain text for `make run`.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"job": {"()": "converter.joblog.JobContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"()": "converter.joblog.TextFormatter",
                 "format": "%(asctime)s %(levelname)s %(name)s %(job_prefix)s%(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["job"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# The worker logs through LOGGING too, rather than Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
