"""API clients that authenticate as a user of one role, as scripts do."""

from django.contrib.auth.models import Group, User
from knox.models import AuthToken
from rest_framework.test import APIClient

from keys.services.actor import Actor
from keys.services.api_tokens import api_token_create

API = "/api/v1"


def client_for(role: str | None, *, expires_in=None, revoked=False) -> APIClient:
    client = APIClient()
    if role is None:
        return client
    user = User.objects.create_user(username=role.replace(" ", "-").lower(), password="pw")
    user.groups.add(Group.objects.get(name=role))
    key = api_token_create(actor=Actor.cli(), user=user, expires_in=expires_in)
    if revoked:
        AuthToken.objects.filter(user=user).delete()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client
