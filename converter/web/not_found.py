"""The 404 answer: a page with the site's header for a person, a word for htmx, which does not
swap a 4xx into the page (base.html's responseHandling) and should not pay for rendering one."""

from django.http import HttpRequest, HttpResponseNotFound
from django.views.defaults import page_not_found


def not_found(request: HttpRequest, exception: Exception):
    if getattr(request, "htmx", False):  # django-htmx's middleware has run for any URL's 404
        return HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")
    return page_not_found(request, exception)
