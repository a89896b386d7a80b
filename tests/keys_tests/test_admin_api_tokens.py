"""API tokens (knox) in the admin, through the test client: a staff user creates their own and
sees its key once, on one page; it works against the API until it is revoked, and both are
audited. Staff see and revoke only their own tokens; a superuser anyone's."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from knox.crypto import hash_token
from knox.models import AuthToken

from keys import roles
from keys.models import AuditEvent
from keys.services.api_tokens import api_token_create

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:knox_authtoken_changelist"
CREATE = "admin:knox_authtoken_add"
ISSUERS_API = "/api/v1/issuers/"
KEY_IN_PAGE = re.compile(r'<code id="api-token-key"[^>]*>([^<]+)</code>')


def user_in(role: str | None, username: str, *, is_staff: bool = True) -> User:
    user = User.objects.create_user(username=username, password="pw", is_staff=is_staff)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def alice(client):
    """A token auditor, logged in: may read the issuers through the API."""
    user = user_in(roles.AUDITORS, "alice")
    client.force_login(user)
    return user


@pytest.fixture
def bob(db):
    return user_in(roles.ISSUERS, "bob")


def token_of(user: User, cli_actor, **options) -> tuple[AuthToken, str]:
    key = api_token_create(actor=cli_actor, user=user, **options)
    return AuthToken.objects.get(digest=hash_token(key)), key


def create_form(client):
    response = client.get(reverse(CREATE))
    assert response.status_code == 200
    return response.context["form"]


def post_create(client, **fields):
    """POST the create form as a browser would after loading it; ``fields`` override."""
    form = create_form(client)
    data = {
        "nonce": form.initial["nonce"],
        "user": form.fields["user"].initial,  # a hidden field for all but superusers
        "lifetime": "90d",
        **fields,
    }
    return client.post(reverse(CREATE), data)


def key_shown(response) -> str:
    assert response.status_code == 200, response.content.decode()[:2000]
    found = KEY_IN_PAGE.findall(response.content.decode())
    assert len(found) == 1, "the key must be shown exactly once on the page"
    return found[0]


def api_status(key: str) -> int:
    """As a script calls the API: the key alone, no session."""
    return Client().get(ISSUERS_API, HTTP_AUTHORIZATION=f"Token {key}").status_code


def messages_of(response) -> list[str]:
    return [str(message.message) for message in get_messages(response.wsgi_request)]


def revoke_url(token: AuthToken) -> str:
    return reverse("admin:knox_authtoken_revoke", args=[token.token_key])


def revoke_action(client, tokens: list[AuthToken], **extra):
    data = {
        "action": "revoke_selected",
        "_selected_action": [token.token_key for token in tokens],
        **extra,
    }
    return client.post(reverse(CHANGELIST), data)


# --- Creating ------------------------------------------------------------------------------


def test_a_staff_user_creates_a_token_whose_key_is_shown_once_and_works(client, alice):
    response = post_create(client)
    key = key_shown(response)

    html = response.content.decode()
    header = re.search(r'<code id="authorization-header"[^>]*>([^<]+)</code>', html)
    assert header.group(1) == f"Authorization: Token {key}"
    assert "It will not be shown again" in html
    assert "no-store" in response["Cache-Control"]
    assert not any(key in message for message in messages_of(response))

    token = AuthToken.objects.get()
    assert token.user == alice
    assert token.digest == hash_token(key)
    assert token.token_key == key[: len(token.token_key)]
    assert token.expiry is not None
    assert abs(token.expiry - (token.created + timedelta(days=90))) < timedelta(minutes=1)
    assert api_status(key) == 200


def test_creating_is_audited_without_the_key(client, alice):
    key = key_shown(post_create(client))
    token = AuthToken.objects.get()
    event = AuditEvent.objects.get(action="api_token.create")
    assert (event.actor, event.channel) == (alice, "admin")
    assert event.details["user"] == "alice"
    assert event.details["token_key"] == token.token_key
    assert key not in str(event.details)
    assert token.digest not in str(event.details)


def test_an_empty_lifetime_makes_a_token_that_never_expires(client, alice):
    key = key_shown(post_create(client, lifetime=""))
    assert AuthToken.objects.get(digest=hash_token(key)).expiry is None
    assert api_status(key) == 200


def test_sending_the_form_again_creates_nothing_and_shows_no_key(client, alice):
    data = {"nonce": create_form(client).initial["nonce"], "user": alice.pk, "lifetime": "30d"}
    key = key_shown(client.post(reverse(CREATE), data))

    again = client.post(reverse(CREATE), data)
    assert again.status_code == 200
    assert key not in again.content.decode()
    assert KEY_IN_PAGE.search(again.content.decode()) is None
    assert AuthToken.objects.count() == 1
    token_key = AuthToken.objects.get().token_key
    assert any(f"already created API token {token_key}" in text for text in messages_of(again))


@pytest.mark.parametrize("lifetime", ["soon", "0d", "-5d", "1.5d", "3651d", "999999999d"])
def test_a_bad_lifetime_is_a_form_error_and_creates_nothing(client, alice, lifetime):
    response = post_create(client, lifetime=lifetime)
    assert response.status_code == 200
    assert "lifetime" in response.context["form"].errors
    assert KEY_IN_PAGE.search(response.content.decode()) is None
    assert not AuthToken.objects.exists()
    assert not AuditEvent.objects.filter(action="api_token.create").exists()


def test_a_staff_user_cannot_create_a_token_for_another_user(client, alice, bob):
    form = create_form(client)
    assert list(form.fields["user"].queryset) == [alice]

    response = post_create(client, user=bob.pk)
    assert response.status_code == 200
    assert "user" in response.context["form"].errors
    assert not AuthToken.objects.exists()


def test_a_superuser_creates_a_token_for_any_active_user(admin_client, bob):
    scripts = user_in(roles.AUDITORS, "ci-bot", is_staff=False)
    form = create_form(admin_client)
    assert {"admin", "bob", "ci-bot"} <= {user.username for user in form.fields["user"].queryset}

    key = key_shown(post_create(admin_client, user=scripts.pk))
    assert AuthToken.objects.get(digest=hash_token(key)).user == scripts
    assert api_status(key) == 200  # with the role of ci-bot


def test_a_superuser_cannot_create_a_token_for_an_inactive_user(admin_client, bob):
    bob.is_active = False
    bob.save()
    response = post_create(admin_client, user=bob.pk)
    assert "user" in response.context["form"].errors
    assert not AuthToken.objects.exists()


# --- The list ------------------------------------------------------------------------------


def test_the_list_shows_a_users_own_tokens_without_key_or_digest(client, alice, bob, cli_actor):
    own, own_key = token_of(alice, cli_actor, expires_in=timedelta(days=30))
    other, _ = token_of(bob, cli_actor)

    assert reverse(CHANGELIST) in client.get(reverse("admin:index")).content.decode()
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]
    html = response.content.decode()
    assert own.token_key in html
    assert other.token_key not in html
    assert own_key not in html
    assert own.digest not in html
    assert '<span class="token-badge token-badge-active">active</span>' in html


def test_expired_tokens_are_listed_as_expired(client, alice, cli_actor):
    token, _ = token_of(alice, cli_actor, expires_in=timedelta(seconds=1))
    AuthToken.objects.filter(pk=token.pk).update(expiry=token.created - timedelta(days=1))
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert '<span class="token-badge token-badge-expired">expired</span>' in html


def test_a_superuser_sees_every_users_tokens(admin_client, alice, bob, cli_actor):
    tokens = {token_of(user, cli_actor)[0] for user in (alice, bob)}
    response = admin_client.get(reverse(CHANGELIST))
    assert set(response.context["cl"].result_list) == tokens


def test_knox_change_pages_are_gone(admin_client, alice, cli_actor):
    token, _ = token_of(alice, cli_actor)
    url = f"{reverse(CHANGELIST)}{token.digest}/change/"
    assert admin_client.get(url).status_code == 404


# --- Revoking ------------------------------------------------------------------------------


def test_revoking_asks_first_then_audits_and_the_key_is_refused(client, alice, cli_actor):
    token, key = token_of(alice, cli_actor)

    confirm = client.get(revoke_url(token))
    assert confirm.status_code == 200
    assert token.token_key in confirm.content.decode()
    assert key not in confirm.content.decode()
    assert api_status(key) == 200  # asking revokes nothing

    response = client.post(revoke_url(token), {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
    assert not AuthToken.objects.exists()
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert (event.actor, event.channel) == (alice, "admin")
    assert event.details == {"user": "alice", "token_key": token.token_key}
    assert api_status(key) == 401


def test_revoking_needs_the_csrf_token(alice, cli_actor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    token, _ = token_of(alice, cli_actor)
    assert client.post(revoke_url(token), {"post": "yes"}).status_code == 403
    assert AuthToken.objects.filter(pk=token.pk).exists()


def test_the_bulk_action_revokes_through_the_service(client, alice, cli_actor):
    tokens_and_keys = [token_of(alice, cli_actor) for _ in range(2)]
    tokens = [token for token, _ in tokens_and_keys]
    actions = dict(client.get(reverse(CHANGELIST)).context["action_form"].fields["action"].choices)
    assert "revoke_selected" in actions
    assert "delete_selected" not in actions

    confirm = revoke_action(client, tokens)
    assert confirm.status_code == 200
    assert AuthToken.objects.count() == 2
    assert all(token.digest not in confirm.content.decode() for token in tokens)

    revoke_action(client, tokens, post="yes")
    assert not AuthToken.objects.exists()
    revoked = AuditEvent.objects.filter(action="api_token.revoke")
    assert {event.details["token_key"] for event in revoked} == {t.token_key for t in tokens}
    assert [api_status(key) for _, key in tokens_and_keys] == [401, 401]


def test_a_staff_user_cannot_see_or_revoke_another_users_token(client, alice, bob, cli_actor):
    other, other_key = token_of(bob, cli_actor)

    assert client.get(revoke_url(other)).status_code == 404
    assert client.post(revoke_url(other), {"post": "yes"}).status_code == 404
    revoke_action(client, [other], post="yes")

    assert AuthToken.objects.filter(pk=other.pk).exists()
    assert not AuditEvent.objects.filter(action="api_token.revoke").exists()
    assert api_status(other_key) == 200


def test_a_superuser_revokes_another_users_token(admin_client, bob, cli_actor):
    token, key = token_of(bob, cli_actor)
    assert admin_client.post(revoke_url(token), {"post": "yes"}).status_code == 302
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert (event.actor.username, event.details["user"]) == ("admin", "bob")
    assert api_status(key) == 401


def test_the_admin_index_leads_to_the_api_tokens(client, alice):
    page = client.get(reverse("admin:index")).content.decode()
    assert "API tokens" in page
    assert reverse(CHANGELIST) in page
