"""The API's HTTP conventions: the vendor's error shape, JSON bodies, and the endpoint decorator."""

import json
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt


class ApiProblem(Exception):
    """Ends a request with the vendor's error body: {"message", "code"?, "errors"?}."""

    def __init__(self, status: int, message: str, *, code: int | None = None, errors: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.errors = status, message, code, errors

    def response(self) -> JsonResponse:
        body = {"message": self.message}
        if self.code is not None:
            body["code"] = self.code
        if self.errors:
            body["errors"] = self.errors
        return JsonResponse(body, status=self.status)


def invalid_field(name: str, message: str) -> ApiProblem:
    """A 400 whose message names the field, as the option validation does."""
    return ApiProblem(400, f"{name}: {message}", errors={name: message})


def api_base(request: HttpRequest) -> str:
    """The absolute URL of the API root (no trailing slash): PUBLIC_URL's when set (behind a
    proxy that rewrites the host), else as the client reached it."""
    root = reverse("api:root").rstrip("/")
    return settings.PUBLIC_URL + root if settings.PUBLIC_URL else request.build_absolute_uri(root)


def endpoint(*methods: str, authenticate=None):
    """CSRF-exempt JSON view: wrong methods get 405, problems become the vendor's error bodies.

    `authenticate(request)` runs before the view and may raise ApiProblem (see api/auth.py).
    """
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in allowed:
                response = ApiProblem(405, f"Method {request.method} is not allowed here.").response()
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                if authenticate is not None:
                    authenticate(request)
                return view(request, *args, **kwargs)
            except ApiProblem as problem:
                return problem.response()
            except Http404:
                return ApiProblem(404, "Not found.").response()

        return wrapper

    return decorate


def json_body(request: HttpRequest):
    """The request's JSON value, decoded whatever the Content-Type says (as the vendor does)."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiProblem(413, "The request body is too large.") from None
    if not raw.strip():
        raise ApiProblem(400, "The JSON body is empty.")
    try:
        body = json.loads(raw)
    except ValueError:  # UnicodeDecodeError is a ValueError
        raise ApiProblem(400, "The body is not valid JSON.") from None
    except RecursionError:
        raise ApiProblem(400, "The JSON body is nested too deeply to read.") from None
    return body


def json_object(request: HttpRequest) -> dict:
    """The request's JSON object (see json_body)."""
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiProblem(400, "The JSON body must be an object.")
    return body


def one_or_404(related, pk, message: str):
    """The row of `related` (a queryset or related manager) with this key, or a 404 saying `message`."""
    found = related.filter(pk=pk).first()
    if found is None:
        raise ApiProblem(404, message)
    return found


@endpoint("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
def not_found(request: HttpRequest, path: str = ""):
    raise ApiProblem(404, "Not found.")
