"""A fake api2convert v2 server: a real HTTP server on 127.0.0.1 in a thread.

It serves what our flow uses (POST /jobs, upload-file, PATCH, GET and DELETE /jobs/{id}, PATCH of
an uploaded input's credentials, GET /contracts, output downloads with password and Range) and
really converts: the output is
the uploaded file encoded to FLAC by the bundled ffmpeg. Faults are knobs on the instance:

    fake.script("POST", "/jobs", 429, headers={"Retry-After": "7"})   # the next matching request
    fake.script("GET", "/jobs/", 503, times=3)                          # a burst of server errors
    fake.script("GET", "/jobs/", 200, body=b"<html>")                   # invalid JSON
    fake.account = 401 / 402                  # every keyed request: invalid key / quota used up
    fake.polls_until_done = None              # never finishes
    fake.fail_with = [{...}]                  # the job fails with these errors
    fake.reset_download_after = 1000          # drop the connection mid-download
    fake.expire_outputs = True                # downloads answer 410 and outputs say "expired"

Importable without Django.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import urlopen

from tests.media import ffmpeg

VALID_KEY = "fake-key-0123456789abcdef"
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class Scripted:
    method: str
    path_prefix: str
    status: int
    body: bytes
    headers: dict
    times: int


@dataclass
class FakeJob:
    id: str
    token: str
    payload: dict
    status: str = "incomplete"
    process: bool = False
    inputs: list = field(default_factory=list)  # (filename, Path)
    credentials: dict = field(default_factory=dict)  # an uploaded input's id -> its PATCHed credentials
    outputs: list = field(default_factory=list)  # dicts, with "path"
    gets: int = 0
    errors: list = field(default_factory=list)


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up mid-answer are what several tests do on purpose (a download stopped
    at its size limit, a proxied download the browser abandoned): no traceback for those."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeApi2convert:
    def __init__(self):
        self.keys = {VALID_KEY}
        self.account: int | None = None
        self.polls_until_done: int | None = 2
        self.fail_with: list | None = None
        self.unknown_status_first = False
        self.reset_download_after: int | None = None
        self.expire_outputs = False
        self.jobs: dict[str, FakeJob] = {}
        self.files: dict[str, bytes] = {}  # served at /files/<name>
        self.requests: list[tuple[str, str, dict]] = []  # method, path, headers
        self._scripted: list[Scripted] = []
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="fake-api2convert-"))
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.base_url = self.url + "/v2"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> FakeApi2convert:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, method: str, path_prefix: str, status: int, *, body: bytes | None = None,
               headers: dict | None = None, times: int = 1) -> None:
        """Answer the next `times` requests matching method and path prefix (after /v2) like this."""
        if body is None:
            body = json.dumps({"message": f"scripted {status}"}).encode()
        self._scripted.append(Scripted(method, path_prefix, status, body, headers or {}, times))

    def calls(self, method: str, path_prefix: str = "") -> list[dict]:
        return [headers for m, path, headers in self.requests if m == method and path.startswith(path_prefix)]

    # --- what the handler calls -------------------------------------------------------------

    def scripted_for(self, method: str, path: str) -> Scripted | None:
        with self._lock:
            for entry in self._scripted:
                if entry.method == method and path.startswith(entry.path_prefix):
                    entry.times -= 1
                    if entry.times <= 0:
                        self._scripted.remove(entry)
                    return entry
        return None

    def job_json(self, job: FakeJob) -> dict:
        outputs = [{key: value for key, value in output.items() if key != "path"} for output in job.outputs]
        for output in outputs:
            output["status"] = "expired" if self.expire_outputs else "enabled"
        return {
            "id": job.id, "token": job.token, "type": "job", "process": job.process,
            "status": {"code": job.status, "info": f"The job is {job.status}."},
            "errors": job.errors, "warnings": [], "conversion": job.payload.get("conversion", []),
            "input": [{"id": str(index), "type": "upload", "filename": name, "parameters": []}
                      for index, (name, _) in enumerate(job.inputs)],
            "output": outputs, "callback": job.payload.get("callback", ""),
            "server": self.url + "/upload", "spent": 1 if job.status == "completed" else 0,
            "download_passwords": [], "created_at": "2026-01-01 00:00:00",
        }

    def advance(self, job: FakeJob) -> None:
        """One GET /jobs/{id}: a started job moves on; done after polls_until_done reads."""
        if not job.process or job.status in ("completed", "failed", "canceled"):
            return
        job.gets += 1
        if self.unknown_status_first and job.gets == 1:
            job.status = "thinking-about-it"
        elif self.polls_until_done is None or job.gets < self.polls_until_done:
            job.status = "processing"
        elif self.fail_with is not None:
            job.status, job.errors = "failed", self.fail_with
        else:
            self._convert(job)
            job.status = "completed"

    def _convert(self, job: FakeJob) -> None:
        sources = list(job.inputs)
        for entry in job.payload.get("input", []):
            path = self._dir / f"{uuid.uuid4()}.in"
            with urlopen(entry["source"], timeout=10) as response:  # noqa: S310 - test URLs only
                path.write_bytes(response.read())
            sources.append((entry["source"].rsplit("/", 1)[-1] or "download", path))
        for name, path in sources:
            output_id = str(uuid.uuid4())
            target = self._dir / f"{output_id}.flac"
            ffmpeg("-i", str(path), "-c:a", "flac", str(target))
            job.outputs.append({
                "id": output_id, "filename": Path(name).stem + ".flac", "size": target.stat().st_size,
                "content_type": "audio/flac", "uri": f"{self.url}/dl/{job.id}/{output_id}",
                "source": {"conversion": "1", "input": []}, "path": target, "checksum": "",
            })


def _handler_for(fake: FakeApi2convert):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet tests
            pass

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_PATCH(self):
            self._dispatch("PATCH")

        def do_DELETE(self):
            self._dispatch("DELETE")

        # --- plumbing ---

        def _dispatch(self, method: str):
            length = int(self.headers.get("Content-Length") or 0)
            self.body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            fake.requests.append((method, path, dict(self.headers)))
            api_path = path.removeprefix("/v2")
            scripted = fake.scripted_for(method, api_path)
            if scripted is not None:
                return self._send(scripted.status, scripted.body, scripted.headers)
            if path.startswith("/files/"):  # URL inputs for remote-input tests
                return self._send(200, fake.files[path.removeprefix("/files/")])
            if path.startswith("/dl/"):
                return self._download(*path.split("/")[2:4])
            if path.startswith("/upload/upload-file/"):
                return self._upload(path.rsplit("/", 1)[-1])
            if self.headers.get("X-Api2convert-Api-Key") not in fake.keys:
                return self._json(401, {"message": "Invalid api key"})
            if fake.account:
                return self._json(fake.account, {"message": "Contract limit reached"})
            if method == "GET" and api_path == "/contracts":
                return self._json(200, [{"name": "fake", "type": "subscription"}])
            if method == "POST" and api_path == "/jobs":
                return self._create()
            match = re.fullmatch(r"/jobs/([\w-]+)(?:/input/(\d+))?", api_path)
            job = fake.jobs.get(match.group(1)) if match else None
            if job is None or (match.group(2) and int(match.group(2)) > len(job.inputs)):
                return self._json(404, {"message": "The specified job does not exists."})
            if method == "PATCH" and match.group(2):  # an uploaded input's credentials
                job.credentials[match.group(2)] = json.loads(self.body).get("credentials")
                return self._json(200, {"id": match.group(2), "type": "upload", "status": "uploaded"})
            if method == "GET":
                fake.advance(job)
            elif method == "PATCH":
                job.process = bool(json.loads(self.body or b"{}").get("process"))
                job.status = "queued"
            elif method == "DELETE":
                job.status = "canceled"
                return self._send(204, b"")
            return self._json(200, fake.job_json(job))

        def _create(self):
            payload = json.loads(self.body)
            job = FakeJob(id=str(uuid.uuid4()), token=uuid.uuid4().hex, payload=payload,
                          process=bool(payload.get("process")))
            fake.jobs[job.id] = job
            self._json(201, fake.job_json(job))

        def _upload(self, job_id: str):
            job = fake.jobs.get(job_id)
            if job is None or self.headers.get("X-Api2convert-Token") != job.token:
                return self._json(401, {"message": "Invalid token"})
            message = BytesParser(policy=email_policy).parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + self.body)
            for part in message.iter_parts():
                if part.get_param("name", header="content-disposition") == "file":
                    path = fake._dir / f"{uuid.uuid4()}.in"
                    path.write_bytes(part.get_payload(decode=True))
                    job.inputs.append((part.get_filename(), path))
            self._json(200, {"id": str(len(job.inputs)), "type": "upload", "status": "uploaded",
                             "filename": job.inputs[-1][0], "parameters": []})

        def _download(self, job_id: str, output_id: str):
            job = fake.jobs.get(job_id)
            output = next((o for o in job.outputs if o["id"] == output_id), None) if job else None
            if output is None or fake.expire_outputs:
                return self._json(410, {"message": "The file has expired"})
            wanted = set(job.payload.get("download_passwords") or [])
            given = (self.headers.get("X-Api2convert-Download-Password")
                     or self.headers.get("X-Oc-Download-Password") or "")
            if wanted and not wanted & set(given.split(",")):
                return self._json(401, {"message": "Invalid download password"})
            data = output["path"].read_bytes()
            headers = {"Content-Type": "audio/flac", "Accept-Ranges": "bytes"}
            status, match = 200, _RANGE_RE.match(self.headers.get("Range") or "")
            if match and match.groups() != ("", ""):
                first = int(match.group(1) or 0)
                last = min(int(match.group(2)) if match.group(2) else len(data) - 1, len(data) - 1)
                if first >= len(data):
                    return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
                status, data = 206, data[first:last + 1]
            if fake.reset_download_after is not None:
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(data))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data[:fake.reset_download_after])
                self.wfile.flush()
                time.sleep(0.2)  # let the client read those bytes: a reset discards unread data
                # SO_LINGER 0: close with a TCP reset, as a dying server would.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return None
            return self._send(status, data, headers)

        def _json(self, status: int, body):
            self._send(status, json.dumps(body).encode(), {"Content-Type": "application/json"})

        def _send(self, status: int, body: bytes, headers: dict | None = None):
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
