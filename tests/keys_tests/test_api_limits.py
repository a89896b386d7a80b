"""The API's limits: per-user throttles on mint and verify, the request body size, and JSON
errors for what Django itself answers under /api/."""

from datetime import timedelta

import pytest

from keys import clock, roles
from keys.models import IssuedToken
from tests.api_client import API, client_for

pytestmark = pytest.mark.django_db

MINT = {"issuer": "plant-a", "label": "mes", "ttl": "1d"}


@pytest.fixture
def rates(settings):
    settings.PORTAL_THROTTLE_RATES = {"mint": "3/min", "verify": "2/min"}


def mint(client):
    return client.post(f"{API}/tokens/", MINT, format="json")


def test_minting_beyond_the_rate_is_429_with_retry_after(issuer, key_pair, rates, now):
    client = client_for(roles.ISSUERS)
    with clock.frozen_at(now + timedelta(seconds=15)):
        assert [mint(client).status_code for _ in range(3)] == [201, 201, 201]
        refused = mint(client)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"  # the minute's window ends 45 s later
    error = refused.json()["error"]
    assert error["code"] == "throttled"
    assert "45 seconds" in error["message"]
    assert IssuedToken.objects.count() == 3


def test_the_limit_lifts_when_the_window_passes(issuer, key_pair, rates, now):
    client = client_for(roles.ISSUERS)
    for _ in range(3):
        mint(client)
    assert mint(client).status_code == 429
    with clock.frozen_at(now + timedelta(minutes=1)):
        assert mint(client).status_code == 201


def test_each_user_has_a_limit_of_their_own(issuer, key_pair, rates, now):
    first = client_for(roles.ISSUERS)
    for _ in range(3):
        mint(first)
    assert mint(first).status_code == 429
    second = client_for(roles.KEY_ADMINS)
    assert mint(second).status_code == 201


def test_listing_tokens_is_not_throttled(issuer, key_pair, rates, now):
    client = client_for(roles.ISSUERS)
    for _ in range(3):
        mint(client)
    assert mint(client).status_code == 429
    assert client.get(f"{API}/tokens/").status_code == 200


def test_verify_has_its_own_rate(issuer, key_pair, rates, now):
    client = client_for(roles.AUDITORS)
    answers = [
        client.post(f"{API}/tokens/verify/", {"token": "a.b.c"}, format="json").status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]


def test_a_body_over_the_limit_is_413_and_mints_nothing(issuer, key_pair, settings):
    settings.PORTAL_API_MAX_BODY_BYTES = 2048
    client = client_for(roles.ISSUERS)
    response = client.post(f"{API}/tokens/", {**MINT, "label": "x" * 4000}, format="json")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert "at most 2048" in error["message"]
    assert not IssuedToken.objects.exists()


def test_the_default_limit_admits_the_largest_importable_key_file(issuer, key_pair):
    from keys.crypto import MAX_IMPORT_BYTES

    client = client_for(roles.KEY_ADMINS)
    pem = "-----BEGIN PRIVATE KEY-----\n" + "A" * (MAX_IMPORT_BYTES - 60) + "\n"
    response = client.post(f"{API}/issuers/plant-a/keys/import/", {"pem": pem}, format="json")
    # Read and refused as a key, not as a body too large to read.
    assert response.status_code == 400
    assert "pem" in response.json()["error"]["fields"]


def test_a_malformed_content_length_is_400_json(db):
    client = client_for(roles.KEY_ADMINS)
    response = client.generic(
        "POST", f"{API}/issuers/", b"{}", content_type="application/json", CONTENT_LENGTH="ten"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("role", [None, roles.AUDITORS])
def test_an_unknown_api_address_is_404_json(db, role):
    response = client_for(role).get(f"{API}/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "Nothing is at this address.",
        "fields": {},
    }


def test_an_unknown_admin_address_is_still_a_page(admin_client):
    response = admin_client.get("/admin/keys/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_missing_slash_is_a_404_that_says_so(db, settings):
    settings.DEBUG = True  # where Django would answer with its HTML page or a RuntimeError
    client = client_for(roles.ISSUERS)
    response = client.post(f"{API}/tokens", MINT, format="json")
    assert response.status_code == 404
    assert "Did you mean /api/v1/tokens/ (with the slash)?" in response.json()["error"]["message"]


def test_an_unknown_address_outside_v1_is_404_json_for_a_post(db):
    response = client_for(None).post("/api/v2/tokens/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_expiry_window_past_the_calendar_is_400_not_500(issuer, key_pair):
    response = client_for(roles.AUDITORS).get(f"{API}/tokens/?expiring_within=59302870d")
    assert response.status_code == 400
    assert "expiring_within" in response.json()["error"]["fields"]
