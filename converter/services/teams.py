from django.db import transaction
from django.utils.text import slugify

from converter.models import Membership, Team


def _unique_slug(base: str) -> str:
    base = slugify(base)[:100] or "team"
    slug, n = base, 1
    while Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def team_create(*, name: str, owner, personal: bool = False) -> Team:
    team = Team.objects.create(name=name, slug=_unique_slug(name), personal=personal)
    Membership.objects.create(team=team, user=owner, role=Membership.Role.OWNER)
    return team


def team_create_personal(user) -> Team:
    return team_create(name=user.get_username(), owner=user, personal=True)
