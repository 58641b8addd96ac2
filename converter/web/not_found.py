"""The 404 and 403 answers: a page with the site's header for a person (templates/404.html,
403.html), a word for htmx, which does not swap a 4xx into the page (base.html's
responseHandling) and should not pay for rendering one."""

from django.http import HttpRequest, HttpResponseForbidden, HttpResponseNotFound
from django.views.defaults import page_not_found, permission_denied


def not_found(request: HttpRequest, exception: Exception):
    if getattr(request, "htmx", False):  # django-htmx's middleware has run for any URL's 404
        return HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")
    return page_not_found(request, exception)


def forbidden(request: HttpRequest, exception: Exception):
    if getattr(request, "htmx", False):
        return HttpResponseForbidden("Forbidden.", content_type="text/plain; charset=utf-8")
    return permission_denied(request, exception)
