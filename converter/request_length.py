"""A body sent in chunks, without a Content-Length, is refused with 411 instead of being read as
empty: Django reads a WSGI body only up to its Content-Length (none: zero bytes), so a chunked
upload or JSON body would otherwise fail as "empty" or "no file", naming the wrong cause."""

from django.http import HttpRequest, HttpResponse, JsonResponse

MESSAGE = ("Send the body with a Content-Length header: "
           "a chunked body (Transfer-Encoding: chunked) is not read.")


class ChunkedBodyRefusedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            if request.path.startswith("/v2/"):  # the API answers in JSON, as its other errors
                return JsonResponse({"message": MESSAGE}, status=411)
            return HttpResponse(MESSAGE, status=411, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
