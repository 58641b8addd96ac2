"""The app's URLs plus a trivial view: the polling bench's baseline, behind the same middleware."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def trivial(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial), *app_urlpatterns]
