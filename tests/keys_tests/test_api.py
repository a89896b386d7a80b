"""The REST API: the role matrix, the JSON error shape, and each operation's behaviour."""

from datetime import timedelta
from io import StringIO

import jwt
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from keys import roles
from keys.models import AuditEvent, IssuedToken, Issuer
from keys.services.tokens import token_mint
from tests.api_client import API, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def minted(issuer, key_pair, cli_actor):
    return token_mint(actor=cli_actor, issuer=issuer, label="line 3 SCADA")


def requests_(minted):
    jti = minted.record.jti
    return {
        "list issuers": ("get", f"{API}/issuers/", None),
        "create issuer": ("post", f"{API}/issuers/", {"name": "plant-b"}),
        "read issuer": ("get", f"{API}/issuers/plant-a/", None),
        "public key": ("get", f"{API}/issuers/plant-a/public.pem", None),
        "list tokens": ("get", f"{API}/tokens/", None),
        "mint": ("post", f"{API}/tokens/", {"issuer": "plant-a", "label": "mes", "ttl": "1d"}),
        "read token": ("get", f"{API}/tokens/{jti}/", None),
        "revoke": ("post", f"{API}/tokens/{jti}/revoke/", {"reason": "test"}),
        "verify": ("post", f"{API}/tokens/verify/", {"token": minted.token}),
    }


READS = {"list issuers", "read issuer", "public key", "list tokens", "read token", "verify"}
ALLOWED = {
    roles.AUDITORS: READS,
    roles.ISSUERS: READS | {"mint", "revoke"},
    roles.KEY_ADMINS: READS | {"mint", "revoke", "create issuer"},
}
OPERATIONS = sorted(READS | {"create issuer", "mint", "revoke"})


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("role", [roles.AUDITORS, roles.ISSUERS, roles.KEY_ADMINS])
def test_each_role_may_do_exactly_its_operations(minted, role, operation):
    method, url, body = requests_(minted)[operation]
    response = getattr(client_for(role), method)(url, body, format="json")
    if operation in ALLOWED[role]:
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("how", ["anonymous", "expired token", "revoked token", "garbage token"])
def test_without_valid_credentials_nothing_is_allowed(minted, operation, how):
    if how == "anonymous":
        client = client_for(None)
    elif how == "expired token":
        client = client_for(roles.KEY_ADMINS, expires_in=timedelta(seconds=-1))
    elif how == "revoked token":
        client = client_for(roles.KEY_ADMINS, revoked=True)
    else:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    before = (IssuedToken.objects.count(), Issuer.objects.count())
    method, url, body = requests_(minted)[operation]
    response = getattr(client, method)(url, body, format="json")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert (IssuedToken.objects.count(), Issuer.objects.count()) == before


def test_an_api_token_stops_working_when_it_expires_and_stays_listed(db, now):
    from keys import clock

    client = client_for(roles.AUDITORS, expires_in=timedelta(hours=1))
    assert client.get(f"{API}/issuers/").status_code == 200
    with clock.frozen_at(now + timedelta(hours=1)):
        assert client.get(f"{API}/issuers/").status_code == 401
    # Refused, not deleted: the admin lists it as expired until someone revokes it.
    assert AuthToken.objects.count() == 1


def test_mint_returns_the_documented_fields_and_a_verifiable_token(issuer, key_pair):
    response = client_for(roles.ISSUERS).post(
        f"{API}/tokens/", {"issuer": "plant-a", "label": "mes", "ttl": "12h"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert {"jti", "token", "iss", "aud", "iat", "exp", "label", "authorization_header"} <= set(
        body
    )
    assert body["exp"] - body["iat"] == 12 * 3600
    assert body["authorization_header"] == f"Bearer {body['token']}"
    assert "no-store" in response["Cache-Control"]
    claims = jwt.decode(
        body["token"], key_pair.public_pem, algorithms=["RS256"], audience="neuronex"
    )
    assert claims["jti"] == body["jti"]
    record = IssuedToken.objects.get()
    assert record.channel == "api"
    assert record.minted_by_name == "token-issuers"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"issuer": "plant-a", "label": "x", "ttl": "400d"}, "ttl"),
        ({"issuer": "plant-a", "label": "x", "ttl": "soon"}, "ttl"),
        ({"issuer": "plant-a", "label": ""}, "label"),
        ({"issuer": "plant-a"}, "label"),
        ({"issuer": "nope", "label": "x"}, "issuer"),
        ({"issuer": "plant-a", "label": "x", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"issuer": "plant-a", "label": "x", "expires_at": "yesterday"}, "expires_at"),
    ],
)
def test_bad_mints_are_4xx_with_the_field_and_change_nothing(issuer, key_pair, body, field):
    response = client_for(roles.ISSUERS).post(f"{API}/tokens/", body, format="json")
    assert 400 <= response.status_code < 500
    assert field in response.json()["error"]["fields"]
    assert not IssuedToken.objects.exists()


def test_tokens_list_never_shows_the_token(minted):
    response = client_for(roles.AUDITORS).get(f"{API}/tokens/")
    assert response.status_code == 200
    assert minted.token not in response.content.decode()
    assert response.json()["results"][0]["label"] == "line 3 SCADA"
    assert response.json()["results"][0]["status"] == "active"


def test_tokens_list_filters(minted):
    client = client_for(roles.AUDITORS)
    assert client.get(f"{API}/tokens/?status=revoked").json()["count"] == 0
    assert client.get(f"{API}/tokens/?status=active&issuer=plant-a").json()["count"] == 1
    assert client.get(f"{API}/tokens/?expiring_within=400d").json()["count"] == 1
    bad = client.get(f"{API}/tokens/?status=nonsense")
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["fields"]


def test_revoke_says_until_when_neuronex_still_accepts(minted):
    client = client_for(roles.ISSUERS)
    url = f"{API}/tokens/{minted.record.jti}/revoke/"
    response = client.post(url, {"reason": "leaked"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "revoked"
    assert body["still_accepted_until"] is not None
    assert "keeps accepting this token" in body["notice"]
    again = client.post(url, {"reason": "twice"}, format="json")
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_verify_answers_for_any_string(issuer, key_pair):
    client = client_for(roles.AUDITORS)
    for token in ["", "garbage", "a.b.c", "x" * 20000]:
        response = client.post(f"{API}/tokens/verify/", {"token": token}, format="json")
        assert response.status_code in (200, 400)
        assert response.status_code != 500


def test_create_issuer_explains_a_bad_name(db):
    response = client_for(roles.KEY_ADMINS).post(
        f"{API}/issuers/", {"name": "neuron-x"}, format="json"
    )
    assert response.status_code == 400
    assert "neuron" in response.json()["error"]["fields"]["name"][0]


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", f"{API}/issuers/nope/", 404),
        ("get", f"{API}/tokens/not-a-uuid/", 400),
        ("get", f"{API}/tokens/6f1c1f4e-1d7b-4b8e-9b8e-1d7b4b8e9b8e/", 404),
        ("delete", f"{API}/issuers/", 405),
    ],
)
def test_errors_share_one_json_shape(db, method, url, status):
    response = getattr(client_for(roles.KEY_ADMINS), method)(url)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_unsupported_media_type_is_415_json(db):
    client = client_for(roles.KEY_ADMINS)
    response = client.post(f"{API}/issuers/", "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_session_requests_need_csrf(issuer, key_pair):
    user = User.objects.create_user(username="web", password="pw")
    user.groups.add(Group.objects.get(name=roles.ISSUERS))
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(f"{API}/tokens/").status_code == 200
    response = client.post(f"{API}/tokens/", {"issuer": "plant-a", "label": "x"}, format="json")
    assert response.status_code == 403
    assert not IssuedToken.objects.exists()


def test_public_key_download(issuer, key_pair):
    response = client_for(roles.AUDITORS).get(f"{API}/issuers/plant-a/public.pem")
    assert response["Content-Type"] == "application/x-pem-file"
    assert response.content.decode() == key_pair.public_pem


def test_schema_and_docs_are_served(db):
    client = APIClient()
    assert client.get(f"{API}/schema/").status_code == 200
    docs = client.get(f"{API}/docs/")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()


def test_create_api_token_prints_the_key_alone_and_stores_a_digest(db):
    User.objects.create_user(username="ci-bot", password="pw")
    out = StringIO()
    call_command("create_api_token", "ci-bot", "--expires-in", "90d", stdout=out)
    key = out.getvalue().strip()
    assert out.getvalue() == key + "\n"
    stored = AuthToken.objects.get()
    assert key not in str(stored.digest) and stored.digest != key
    assert AuditEvent.objects.filter(action="api_token.create").exists()


@pytest.mark.parametrize("lifetime", ["3651d", "999999999d", "forever"])
def test_create_api_token_refuses_a_lifetime_it_cannot_keep(db, lifetime):
    from django.core.management.base import CommandError

    User.objects.create_user(username="ci-bot", password="pw")
    with pytest.raises(CommandError, match=r"at most 3650d|not a duration|longer than"):
        call_command("create_api_token", "ci-bot", "--expires-in", lifetime, stdout=StringIO())
    assert not AuthToken.objects.exists()
