"""Sign-up. Log-in and log-out are django.contrib.auth's views with our templates."""

from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from converter.services.teams import team_create_personal


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest):
    # Where the log-in page was sent from (an invitation's link): there again once signed up.
    wanted = request.POST.get("next") or request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure())
    next_url = wanted if safe else ""
    if request.user.is_authenticated:
        return redirect(next_url or "convert")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            team_create_personal(user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(next_url or "convert")
    return render(request, "auth/signup.html", {"form": form, "next": next_url},
                  status=422 if form.errors else 200)
