"""`manage.py apikey create|list|revoke`: API keys for automation.

`create` prints the new key alone on stdout (so `KEY=$(manage.py apikey create …)` works);
the callback signing secret goes to stderr.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from converter.models import ApiKey, Team
from converter.selectors import teams_for
from converter.services.api_keys import ApiKeyInvalid, key_issue, key_revoke


class Command(BaseCommand):
    help = "Create, list or revoke API keys for the api2convert-compatible API."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Issue a key and print it on stdout.")
        create.add_argument("--user", required=True, help="User name of the key's owner.")
        create.add_argument("--team", help="Team slug (default: the user's personal or first team).")
        create.add_argument("--name", default="Command line", help="A name to recognise the key by.")
        listing = actions.add_parser("list", help="List keys (prefix, team, owner, name, last use).")
        listing.add_argument("--team", help="Only this team's keys (slug).")
        revoke = actions.add_parser("revoke", help="Revoke the key with this prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, *, user, team, name, **_):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user “{user}”.")
        teams = teams_for(owner)
        chosen = teams.filter(slug=team).first() if team else teams.first()
        if chosen is None:
            raise CommandError(f"“{user}” is not a member of {f'team “{team}”' if team else 'any team'}.")
        try:
            issued = key_issue(team=chosen, user=owner, name=name)
        except ApiKeyInvalid as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(issued.key)
        self.stderr.write(f"Callback signing secret: {issued.signing_secret}")

    def _list(self, *, team, **_):
        keys = ApiKey.objects.select_related("team", "user")
        if team:
            if not Team.objects.filter(slug=team).exists():
                raise CommandError(f"No team “{team}”.")
            keys = keys.filter(team__slug=team)
        for key in keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(f"{key.prefix}\t{key.team.slug}\t{key.user.get_username()}\t{state}\t"
                              f"used {key.usage_count}× (last {used})\t{key.name}")

    def _revoke(self, *, prefix, **_):
        key = ApiKey.objects.filter(prefix=prefix).first()
        if key is None:
            raise CommandError(f"No key with prefix “{prefix}”.")
        key_revoke(key)
        self.stdout.write(f"Revoked {key.prefix} ({key.name}).")
