"""What the bench's gunicorn serves: the app, and a WSGI sink at /bench/sink (the upload bench's
baseline: reads the request body and drops it, in the same server and configuration)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django_application = get_wsgi_application()
SINK_CHUNK = 1024 * 1024  # as the app's upload handlers read (converter/uploads.py CHUNK)


def application(environ, start_response):
    if environ["PATH_INFO"] != "/bench/sink":
        return django_application(environ, start_response)
    body, total = environ["wsgi.input"], 0
    size = int(environ.get("QUERY_STRING", "").removeprefix("chunk=") or SINK_CHUNK)  # ?chunk=65536
    while chunk := body.read(size):
        total += len(chunk)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(str(total))))])
    return [str(total).encode()]
