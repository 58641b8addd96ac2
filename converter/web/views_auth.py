"""Sign-up. Log-in and log-out are django.contrib.auth's views with our templates."""

from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from converter.services.teams import team_create_personal


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest):
    if request.user.is_authenticated:
        return redirect("convert")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            team_create_personal(user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("convert")
    return render(request, "auth/signup.html", {"form": form}, status=422 if form.errors else 200)
