"""The token pages of the admin, through the test client, per role: the list with its status
badges and filters, the mint page that shows a token once (and never twice), and the revoke
action that says NeuronEX keeps accepting a revoked token (rule 6 of neuronex-compat.md)."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.auth.models import Group, User
from django.contrib.messages import constants as levels
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from keys import clock, roles
from keys.admin import tokens as token_admin
from keys.models import AuditEvent, ExportTarget, IssuedToken, KeyPair
from keys.services.exports import export_target
from keys.services.issuers import issuer_create, issuer_disable
from keys.services.keypairs import keypair_generate, keypair_rotate
from keys.services.tokens import token_mint, token_revoke

pytestmark = pytest.mark.django_db

ROLES = [roles.AUDITORS, roles.ISSUERS, roles.KEY_ADMINS]
EVERY_ROLE = ["superuser", *ROLES]
MINTING_ROLES = ["superuser", roles.ISSUERS, roles.KEY_ADMINS]

CHANGELIST = "admin:keys_issuedtoken_changelist"
MINT = "admin:keys_issuedtoken_mint"
TOKEN_IN_PAGE = re.compile(r'<code id="minted-token"[^>]*>([^<]+)</code>')


def user_in(role: str) -> User:
    user = User.objects.create_user(
        username=role.lower().replace(" ", "-"), password="pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def client_as(request, client):
    """A test client logged in as a role; "superuser" is pytest-django's admin_client."""

    def log_in(role: str):
        if role == "superuser":
            return request.getfixturevalue("admin_client")
        client.force_login(user_in(role))
        return client

    return log_in


def changelist(client, **params):
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


def labels_listed(client, **params) -> set[str]:
    return {token.label for token in changelist(client, **params).context["cl"].result_list}


def messages_of(response) -> list[tuple[int, str]]:
    return [
        (message.level, str(message.message)) for message in get_messages(response.wsgi_request)
    ]


def mint(cli_actor, issuer, label, **when):
    return token_mint(actor=cli_actor, issuer=issuer, label=label, **when).record


def default_target() -> ExportTarget:
    return ExportTarget.objects.get(name="default")


@pytest.fixture
def plant_b(db, cli_actor):
    issuer = issuer_create(actor=cli_actor, name="plant-b")
    keypair_generate(actor=cli_actor, issuer=issuer)
    return issuer


@pytest.fixture
def tokens(issuer, key_pair, plant_b, cli_actor, now):
    """One token of each kind, by label. The clock stands at `now` (2026-06-01 12:00 UTC)."""
    export_target(actor=cli_actor, target=default_target())  # both keys are in the folder
    with clock.frozen_at(now - timedelta(days=2)):
        expired = mint(cli_actor, issuer, "expired", ttl=timedelta(days=1))
        revoked_expired = mint(cli_actor, issuer, "revoked expired", ttl=timedelta(days=1))
    made = {
        "active": mint(cli_actor, issuer, "active", ttl=timedelta(days=90)),
        "in 3 days": mint(cli_actor, issuer, "in 3 days", ttl=timedelta(days=3)),
        "in 20 days": mint(cli_actor, issuer, "in 20 days", ttl=timedelta(days=20)),
        "expired": expired,
        "revoked expired": revoked_expired,
        "revoked accepted": mint(cli_actor, issuer, "revoked accepted", ttl=timedelta(days=5)),
        "plant-b active": mint(cli_actor, plant_b, "plant-b active", ttl=timedelta(days=60)),
        "plant-b revoked": mint(cli_actor, plant_b, "plant-b revoked", ttl=timedelta(days=60)),
    }
    for label in ("revoked expired", "revoked accepted", "plant-b revoked"):
        made[label] = token_revoke(actor=cli_actor, token=made[label], reason="test")
    return made


# --- The list ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_every_role_sees_the_list_with_status_badges(client_as, tokens, role):
    html = changelist(client_as(role)).content.decode()
    badges = dict(
        re.findall(r'<span class="token-badge token-badge-([a-z-]+)"[^>]*>([^<]+)</span>', html)
    )
    assert badges == {
        "active": "active",
        "expired": "expired",
        "revoked": "revoked",
        "revoked-accepted": "revoked, still accepted",
    }
    # The "revoked accepted" token and plant-b's revoked one: their keys are in the folder.
    assert html.count('class="token-badge token-badge-revoked-accepted"') == 2
    assert "still accepts it until 2026-06-06 12:00:00 UTC" in html


def test_a_rotated_and_exported_key_ends_the_still_accepted_badge(
    admin_client, tokens, plant_b, cli_actor
):
    keypair_rotate(actor=cli_actor, issuer=plant_b)
    # Rotated, but the old key file is still in the folder: NeuronEX still accepts the token.
    assert "plant-b revoked" in labels_listed(admin_client, status="still_accepted")
    export_target(actor=cli_actor, target=default_target())
    assert "plant-b revoked" not in labels_listed(admin_client, status="still_accepted")
    html = changelist(admin_client, issuer__id__exact=plant_b.pk).content.decode()
    assert 'class="token-badge token-badge-revoked-accepted"' not in html
    assert 'class="token-badge token-badge-revoked"' in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "active"}, {"active", "in 3 days", "in 20 days", "plant-b active"}),
        ({"status": "expired"}, {"expired"}),
        (
            {"status": "revoked"},
            {"revoked expired", "revoked accepted", "plant-b revoked"},
        ),
        ({"status": "still_accepted"}, {"revoked accepted", "plant-b revoked"}),
        ({"expires_within": "7d"}, {"in 3 days"}),
        ({"expires_within": "30d"}, {"in 3 days", "in 20 days"}),
        ({"channel": "cli"}, None),  # every token
        ({"channel": "admin"}, set()),
        ({"status": "active", "expires_within": "30d"}, {"in 3 days", "in 20 days"}),
    ],
)
def test_filters_return_the_right_tokens(admin_client, tokens, params, expected):
    if expected is None:
        expected = set(tokens)
    assert labels_listed(admin_client, **params) == expected


def test_the_issuer_filter(admin_client, tokens, plant_b):
    assert labels_listed(admin_client, issuer__id__exact=plant_b.pk) == {
        "plant-b active",
        "plant-b revoked",
    }


def test_filters_follow_the_clock(admin_client, tokens, now):
    with clock.frozen_at(now + timedelta(days=4)):
        assert labels_listed(admin_client, expires_within="7d") == set()
        assert labels_listed(admin_client, expires_within="30d") == {"in 20 days"}
        assert "in 3 days" in labels_listed(admin_client, status="expired")
        assert "revoked accepted" in labels_listed(admin_client, status="still_accepted")
    with clock.frozen_at(now + timedelta(days=6)):
        assert "revoked accepted" not in labels_listed(admin_client, status="still_accepted")
        html = changelist(admin_client, status="revoked").content.decode()
        assert (
            html.count('class="token-badge token-badge-revoked-accepted"') == 1
        )  # only plant-b's now


def test_search_by_exact_jti_and_by_label(admin_client, tokens):
    active = tokens["active"]
    assert labels_listed(admin_client, q=str(active.jti)) == {"active"}
    assert labels_listed(admin_client, q=str(active.jti)[:8]) == set()  # exact, not partial
    assert labels_listed(admin_client, q="plant-b") == {"plant-b active", "plant-b revoked"}


def test_the_list_is_ordered_by_expiry(admin_client, tokens):
    listed = list(changelist(admin_client).context["cl"].result_list)
    assert [token.exp for token in listed] == sorted(token.exp for token in listed)
    assert changelist(admin_client, exp__year=2026).status_code == 200  # date hierarchy


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_the_mint_link_only_for_those_who_may_mint(client_as, tokens, role):
    html = changelist(client_as(role)).content.decode()
    link = f'href="{reverse(MINT)}" id="mint-token"'
    assert (link in html) == (role in MINTING_ROLES)


def test_the_list_costs_the_same_queries_for_10_or_45_tokens(
    admin_client, issuer, key_pair, plant_b, cli_actor, now, django_assert_max_num_queries
):
    def make(count):
        for number in range(count):
            record = mint(cli_actor, issuer if number % 2 else plant_b, f"token {number}")
            if number % 3 == 0:
                token_revoke(actor=cli_actor, token=record)

    def queries(**params):
        with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as seen:
            response = changelist(admin_client, **params)
        assert response.context["cl"].result_count == len(response.context["cl"].result_list)
        return len(seen)

    make(10)
    changelist(admin_client)  # the session, once
    few = queries(), queries(status="still_accepted")
    make(35)
    many = queries(), queries(status="still_accepted")
    assert few == many
    assert len(changelist(admin_client).context["cl"].result_list) == 45  # one page: 50 rows


def test_the_row_checkbox_is_djangos(admin_client, issuer, key_pair, cli_actor):
    """The list writes its action checkboxes without a widget template; the markup must stay
    what Django's actions script and screen readers expect."""
    record = mint(cli_actor, issuer, 'a "quoted" <label>')
    model_admin = admin.site._registry[IssuedToken]
    assert model_admin.action_checkbox(record) == ModelAdmin.action_checkbox(model_admin, record)
    assert model_admin.action_checkbox(record) in changelist(admin_client).content.decode()


# --- The change page -----------------------------------------------------------------------


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_the_change_page_shows_until_when_a_revoked_token_is_accepted(client_as, tokens, role):
    client = client_as(role)
    record = tokens["revoked accepted"]
    response = client.get(reverse("admin:keys_issuedtoken_change", args=[record.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="token-badge token-badge-revoked-accepted"' in html
    assert "NeuronEX has no deny-list: it keeps accepting this token until it expires at " in html
    assert "2026-06-06 12:00:00 UTC" in html

    active = tokens["active"]
    html = client.get(reverse("admin:keys_issuedtoken_change", args=[active.pk])).content
    assert b'class="token-badge token-badge-active"' in html
    assert b"NeuronEX accepts it" not in html
    assert b"deny-list" not in html


def test_the_change_page_of_a_revoked_expired_token_says_nothing_is_accepted(admin_client, tokens):
    record = tokens["revoked expired"]
    html = admin_client.get(reverse("admin:keys_issuedtoken_change", args=[record.pk])).content
    assert b'class="token-badge token-badge-revoked"' in html
    assert b"NeuronEX no longer accepts this token" in html


def test_the_change_page_stays_read_only(admin_client, tokens):
    record = tokens["active"]
    url = reverse("admin:keys_issuedtoken_change", args=[record.pk])
    response = admin_client.post(url, {"label": "changed"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.label == "active"


# --- Minting -------------------------------------------------------------------------------


def mint_form(client, **params):
    response = client.get(reverse(MINT), params)
    assert response.status_code == 200
    return response.context["form"]


def post_mint(client, to_issuer, **fields):
    """POST the mint form as a browser would after loading it; ``fields`` override."""
    data = {"issuer": to_issuer.pk, "label": "line 3 SCADA", "lifetime": "30d", **fields}
    if "nonce" not in data:
        data["nonce"] = mint_form(client).initial["nonce"]
    return client.post(reverse(MINT), data)


def minted_token(response) -> str:
    [token] = TOKEN_IN_PAGE.findall(response.content.decode())
    return token


@pytest.mark.parametrize("role", MINTING_ROLES)
def test_minters_get_the_mint_page_with_active_issuers_only(
    client_as, issuer, key_pair, plant_b, cli_actor, role
):
    issuer_disable(actor=cli_actor, issuer=plant_b)
    client = client_as(role)
    response = client.get(reverse(MINT))
    html = response.content.decode()
    assert 'id="mint-submit"' in html
    assert f'<option value="{issuer.pk}" selected>plant-a (iss plant-a.pem' in html  # the only one
    assert f'value="{plant_b.pk}"' not in html
    assert re.search(r'<input type="hidden" name="nonce" value="[A-Za-z0-9_-]{32}"', html)
    for value in ("1d", "30d", "90d", "365d", "custom"):
        assert f'value="{value}"' in html
    assert 'name="ttl"' in html
    assert 'name="expires_at_0"' in html


def test_the_issuer_can_be_preselected(admin_client, issuer, key_pair):
    html = admin_client.get(reverse(MINT), {"issuer": issuer.pk}).content.decode()
    assert f'<option value="{issuer.pk}" selected>' in html
    assert admin_client.get(reverse(MINT), {"issuer": "nonsense"}).status_code == 200


def test_auditors_may_not_mint(client, issuer, key_pair):
    client.force_login(user_in(roles.AUDITORS))
    assert client.get(reverse(MINT)).status_code == 403
    data = {"nonce": "n" * 32, "issuer": issuer.pk, "label": "x", "lifetime": "30d"}
    assert client.post(reverse(MINT), data).status_code == 403
    assert not IssuedToken.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client, issuer, key_pair):
    response = client.get(reverse(MINT))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("role", MINTING_ROLES)
def test_minting_shows_the_token_once_and_stores_only_its_hash(
    client_as, issuer, key_pair, now, role
):
    client = client_as(role)
    response = post_mint(client, issuer)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = minted_token(response)

    record = IssuedToken.objects.get()
    claims = jwt.decode(
        token,
        key_pair.public_pem,
        algorithms=["RS256"],
        audience="neuronex",
        options={"verify_exp": False, "verify_iat": False},  # minted at the test's frozen clock
    )
    assert claims["jti"] == str(record.jti)
    assert claims["iss"] == "plant-a.pem"
    assert claims["exp"] - claims["iat"] == 30 * 86400
    assert record.exp == now + timedelta(days=30)
    assert record.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert record.channel == "admin"
    assert record.label == "line 3 SCADA"
    assert record.minted_by.get_username() == response.wsgi_request.user.get_username()

    html = response.content.decode()
    assert f"Authorization: Bearer {token}</code>" in html
    assert (
        f"curl -H &quot;Authorization: Bearer {token}&quot; http://&lt;neuronex-host&gt;:8085/api/"
        in html
    )
    assert 'id="copy-token"' in html
    assert "navigator.clipboard" in html
    assert "It will not be shown again" in html
    assert str(record.jti) in html
    assert "2026-07-01 12:00:00 UTC" in html

    # Nowhere else: not in the session, the audit log, or any column of the record.
    session = client.session
    assert all(token not in str(value) for value in dict(session.items()).values())
    assert all(token not in str(event.details) for event in AuditEvent.objects.all())
    assert token not in str(IssuedToken.objects.values().get())


def test_export_warnings_are_shown_as_warning_messages(admin_client, issuer, key_pair):
    # The key was generated in this test's transaction: the auto-export has not run yet.
    response = post_mint(admin_client, issuer)
    warnings = [text for level, text in messages_of(response) if level == levels.WARNING]
    assert any("does not have plant-a.pem with the current key yet" in w for w in warnings)
    assert "does not have plant-a.pem" in response.content.decode()


def test_posting_the_same_form_again_mints_nothing_and_shows_nothing(
    admin_client, issuer, key_pair
):
    nonce = mint_form(admin_client).initial["nonce"]
    first = post_mint(admin_client, issuer, nonce=nonce)
    token = minted_token(first)
    record = IssuedToken.objects.get()
    events = AuditEvent.objects.count()

    again = post_mint(admin_client, issuer, nonce=nonce)
    assert again.status_code == 200
    html = again.content.decode()
    assert token not in html
    assert token.split(".")[2] not in html
    assert 'id="minted-token"' not in html
    assert token_admin.ALREADY_SHOWN in html
    assert reverse("admin:keys_issuedtoken_change", args=[record.pk]) in html
    assert 'id="mint-submit"' in html
    assert again.context["form"].initial["nonce"] != nonce  # a fresh form to mint anew
    assert IssuedToken.objects.count() == 1
    assert AuditEvent.objects.count() == events

    # The session remembers nonces (and the public jti), a bounded number, never the token.
    remembered = admin_client.session[token_admin.NONCES_SESSION_KEY]
    assert remembered == [[nonce, str(record.jti)]]
    # A new form mints a new token.
    assert minted_token(post_mint(admin_client, issuer)) != token
    assert IssuedToken.objects.count() == 2


def test_the_session_keeps_a_bounded_number_of_nonces(admin_client, issuer, key_pair, settings):
    for _ in range(token_admin.NONCES_KEPT + 3):
        assert post_mint(admin_client, issuer).status_code == 200
    assert len(admin_client.session[token_admin.NONCES_SESSION_KEY]) == token_admin.NONCES_KEPT


@pytest.fixture
def short_issuer(db, cli_actor):
    issuer = issuer_create(
        actor=cli_actor, name="short", max_ttl=timedelta(days=30), default_ttl=timedelta(days=1)
    )
    keypair_generate(actor=cli_actor, issuer=issuer)
    return issuer


BAD_MINTS = [
    ({"lifetime": "custom", "ttl": "soon"}, "ttl", "is not a duration"),
    ({"lifetime": "custom", "ttl": "0"}, "ttl", "not a positive duration"),
    ({"lifetime": "custom"}, "ttl", "give a duration such as 12h"),
    ({"lifetime": "custom", "ttl": "400d"}, "ttl", "longer than issuer"),
    (
        {"lifetime": "custom", "expires_at_0": "2026-05-01", "expires_at_1": "00:00:00"},
        "expires_at",
        "must lie in the future",
    ),
    (
        {"lifetime": "custom", "expires_at_0": "2028-01-01", "expires_at_1": "00:00:00"},
        "expires_at",
        "longer than issuer",
    ),
    (
        {"lifetime": "custom", "expires_at_0": "2026-06-02", "expires_at_1": "bad"},
        "expires_at",
        "valid time",
    ),
    (
        {
            "lifetime": "custom",
            "ttl": "12h",
            "expires_at_0": "2026-06-02",
            "expires_at_1": "00:00:00",
        },
        "expires_at",
        "not both",
    ),
    ({"lifetime": "30d", "ttl": "12h"}, "lifetime", "choose “custom”"),
    ({"lifetime": "2d"}, "lifetime", "Select a valid choice"),
    ({"lifetime": ""}, "lifetime", "required"),
    ({"label": ""}, "label", "required"),
    ({"label": "   "}, "label", "required"),
    ({"label": "line\x013"}, "label", "control characters"),
    ({"label": "x" * 201}, "label", "at most 200 characters"),
    ({"issuer": "999999"}, "issuer", "Select a valid choice"),
    ({"nonce": ""}, "nonce", "reload the page"),
    ({"nonce": "short"}, "nonce", "reload the page"),
]


@pytest.mark.parametrize(("fields", "field", "error"), BAD_MINTS)
def test_bad_input_is_a_form_error_and_writes_nothing(
    admin_client, issuer, key_pair, now, fields, field, error
):
    events = AuditEvent.objects.count()
    response = post_mint(admin_client, issuer, **fields)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(error in message for message in form.errors.get(field, [])), form.errors
    html = response.content.decode()
    assert 'id="minted-token"' not in html
    assert 'id="mint-submit"' in html
    assert not IssuedToken.objects.exists()
    assert AuditEvent.objects.count() == events
    assert re.search(r'name="nonce" value="[A-Za-z0-9_-]{16,}"', html)  # can be sent again


def test_a_preset_over_the_issuers_maximum_is_an_error_on_the_lifetime(
    admin_client, short_issuer, now
):
    response = post_mint(admin_client, short_issuer, lifetime="365d")
    assert response.status_code == 200
    [error] = response.context["form"].errors["lifetime"]
    assert "longer than issuer 'short' allows (30d)" in error
    assert not IssuedToken.objects.exists()


def test_an_issuer_without_an_active_key_is_an_error_on_the_issuer(admin_client, db, cli_actor):
    keyless = issuer_create(actor=cli_actor, name="keyless")
    response = post_mint(admin_client, keyless)
    assert response.status_code == 200
    [error] = response.context["form"].errors["issuer"]
    assert "has no active key pair" in error
    assert not IssuedToken.objects.exists()


def test_a_disabled_issuer_is_an_error_on_the_issuer(admin_client, issuer, key_pair, cli_actor):
    form = mint_form(admin_client)
    issuer_disable(actor=cli_actor, issuer=issuer)  # between showing the form and posting it
    response = post_mint(admin_client, issuer, nonce=form.initial["nonce"])
    assert response.status_code == 200
    [error] = response.context["form"].errors["issuer"]
    assert "is disabled and mints nothing" in error
    assert not IssuedToken.objects.exists()


def test_a_service_error_on_an_unknown_field_is_shown_above_the_form(
    admin_client, issuer, key_pair, monkeypatch
):
    from keys.errors import Conflict

    def refuse(**kwargs):
        raise Conflict("Not now.", field="something-else")

    monkeypatch.setattr(token_admin, "token_mint", refuse)
    response = post_mint(admin_client, issuer)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Not now."]
    assert "Not now." in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "lifetime"),
    [
        ({"lifetime": "1d"}, timedelta(days=1)),
        ({"lifetime": "365d"}, timedelta(days=365)),
        ({"lifetime": "custom", "ttl": "12h"}, timedelta(hours=12)),
        (
            {"lifetime": "custom", "expires_at_0": "2026-06-03", "expires_at_1": "18:30:00"},
            timedelta(days=2, hours=6, minutes=30),
        ),
    ],
)
def test_every_kind_of_lifetime_mints(admin_client, issuer, key_pair, now, fields, lifetime):
    response = post_mint(admin_client, issuer, **fields)
    assert response.status_code == 200
    assert minted_token(response)
    assert IssuedToken.objects.get().exp == now + lifetime


# --- Revoking ------------------------------------------------------------------------------


def revoke_action(client, *records, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": "revoke_tokens", "_selected_action": [r.pk for r in records], **extra},
    )


def offered_actions(client) -> set[str]:
    form = changelist(client).context["action_form"]
    if form is None:
        return set()
    return {value for value, _ in form.fields["action"].choices if value}


@pytest.fixture
def rotation_url(monkeypatch):
    """Pretend the issuer page's rotation view exists (another change adds it), or not."""
    real_reverse = token_admin.reverse

    def set_present(present: bool):
        def reverse_(name, *args, **kwargs):
            if name == "admin:keys_issuer_rotate":
                if not present:
                    raise NoReverseMatch(name)
                return f"/admin/keys/issuer/{kwargs['args'][0]}/rotate/"
            return real_reverse(name, *args, **kwargs)

        monkeypatch.setattr(token_admin, "reverse", reverse_)

    return set_present


@pytest.mark.parametrize("role", MINTING_ROLES)
def test_revoking_asks_first_then_revokes_and_says_neuronex_still_accepts(
    client_as, tokens, role, rotation_url, now
):
    rotation_url(True)
    client = client_as(role)
    record = tokens["active"]
    assert "revoke_tokens" in offered_actions(client)

    confirm = revoke_action(client, record)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "admin/keys/issuedtoken/revoke_confirmation.html" in [t.name for t in confirm.templates]
    assert str(record.jti) in html
    assert "NeuronEX has no deny-list" in html
    assert 'name="reason"' in html
    assert 'id="revoke-confirm"' in html
    may_rotate = role != roles.ISSUERS
    assert ('id="offer-rotation"' in html) == may_rotate
    if may_rotate:
        assert f'href="/admin/keys/issuer/{record.issuer_id}/rotate/"' in html
    else:
        assert "Ask a key administrator to rotate the key of plant-a" in html
    record.refresh_from_db()
    assert record.revoked_at is None  # nothing happens before the confirmation

    done = revoke_action(client, record, post="yes", reason="leaked in a ticket")
    assert done.status_code == 302
    record.refresh_from_db()
    assert record.revoked_at == now
    assert record.revoke_reason == "leaked in a ticket"
    assert record.revoked_by.get_username() == done.wsgi_request.user.get_username()
    event = AuditEvent.objects.get(action="token.revoke", object_id=str(record.jti))
    assert event.channel == "admin"
    said = messages_of(done)
    success = [text for level, text in said if level == levels.SUCCESS]
    assert len(success) == 1
    assert f"Revoked token {record.jti}" in success[0]
    assert (
        "NeuronEX has no deny-list: it keeps accepting this token until it expires" in (success[0])
    )
    [warning] = [text for level, text in said if level == levels.WARNING]
    assert "stay accepted by NeuronEX" in warning
    assert ("/rotate/" in warning) == may_rotate


def test_the_confirmation_page_omits_the_rotation_link_until_it_exists(
    admin_client, tokens, rotation_url
):
    rotation_url(False)
    html = revoke_action(admin_client, tokens["active"]).content.decode()
    assert 'id="offer-rotation"' not in html
    assert "Ask a key administrator to rotate the key of plant-a" in html
    done = revoke_action(admin_client, tokens["active"], post="yes")
    assert done.status_code == 302
    assert IssuedToken.objects.get(pk=tokens["active"].pk).revoked_at


def test_the_confirmation_page_explains_per_issuer(admin_client, tokens, rotation_url):
    rotation_url(True)
    response = revoke_action(
        admin_client, tokens["active"], tokens["expired"], tokens["plant-b active"]
    )
    html = response.content.decode()
    issuers = {entry["issuer"].name: entry for entry in response.context["issuers"]}
    assert set(issuers) == {"plant-a", "plant-b"}
    assert len(issuers["plant-a"]["accepted"]) == 1  # the expired one is refused already
    assert html.count("NeuronEX has no deny-list") == 2
    assert 'id="offer-rotation"' in html
    assert 'id="offer-rotation-plant-b"' in html


def test_the_confirmation_page_says_when_neuronex_refuses_already(admin_client, tokens):
    html = revoke_action(admin_client, tokens["expired"]).content.decode()
    assert "NeuronEX already refuses the selected token of plant-a" in html
    assert "offer-rotation" not in html


def test_revoking_an_already_revoked_token_is_an_error_message(admin_client, tokens):
    revoked, active = tokens["revoked accepted"], tokens["active"]
    confirm = revoke_action(admin_client, revoked, active)
    assert "already revoked" in confirm.content.decode()
    done = revoke_action(admin_client, revoked, active, post="yes", reason="again")
    assert done.status_code == 302
    errors = [text for level, text in messages_of(done) if level == levels.ERROR]
    assert len(errors) == 1
    assert f"Token {revoked.jti}" in errors[0]
    assert "was revoked already" in errors[0]
    revoked.refresh_from_db()
    assert revoked.revoke_reason == "test"
    active.refresh_from_db()
    assert active.revoke_reason == "again"


def test_revoking_an_expired_token_says_neuronex_refuses_it(admin_client, tokens):
    done = revoke_action(admin_client, tokens["expired"], post="yes")
    [(level, text)] = messages_of(done)
    assert level == levels.SUCCESS
    assert "NeuronEX no longer accepts this token" in text


def test_a_bad_reason_is_shown_on_the_confirmation_page_and_revokes_nothing(admin_client, tokens):
    response = revoke_action(admin_client, tokens["active"], post="yes", reason="x" * 1001)
    assert response.status_code == 200
    assert "at most 1000 characters" in response.content.decode()
    assert 'id="revoke-confirm"' in response.content.decode()
    tokens["active"].refresh_from_db()
    assert tokens["active"].revoked_at is None


def test_auditors_cannot_revoke(client, tokens):
    client.force_login(user_in(roles.AUDITORS))
    assert "revoke_tokens" not in offered_actions(client)
    record = tokens["active"]
    for extra in ({}, {"post": "yes", "reason": "no"}):
        response = revoke_action(client, record, **extra)
        assert response.status_code in (200, 302)
        assert "revoke-confirm" not in response.content.decode()
    record.refresh_from_db()
    assert record.revoked_at is None
    assert not AuditEvent.objects.filter(action="token.revoke", object_id=str(record.jti)).exists()


def test_the_key_pairs_private_key_is_not_loaded_for_the_list(admin_client, tokens):
    listed = changelist(admin_client).context["cl"].result_list
    assert all("private_key_encrypted" in t.key_pair.get_deferred_fields() for t in listed)


def test_times_are_shown_in_utc(admin_client, issuer, key_pair):
    with clock.frozen_at(datetime(2026, 1, 1, 23, 30, tzinfo=UTC)):
        html = post_mint(admin_client, issuer, lifetime="1d").content.decode()
    assert "2026-01-02 23:30:00 UTC" in html
    assert KeyPair.objects.count() == 1


def test_the_only_active_issuer_is_preselected(admin_client, issuer, key_pair, plant_b, cli_actor):
    assert mint_form(admin_client).initial.get("issuer") is None  # two: the person chooses
    issuer_disable(actor=cli_actor, issuer=plant_b)
    assert mint_form(admin_client).initial["issuer"] == issuer.pk


def test_an_ekuiper_issuer_gets_the_bare_token_note(admin_client, db, cli_actor):
    ekuiper = issuer_create(actor=cli_actor, name="rules", audience="eKuiper")
    keypair_generate(actor=cli_actor, issuer=ekuiper)
    html = post_mint(admin_client, ekuiper).content.decode()
    assert "standalone eKuiper takes the bare token" in html
    plain = issuer_create(actor=cli_actor, name="scada")
    keypair_generate(actor=cli_actor, issuer=plain)
    assert "bare token" not in post_mint(admin_client, plain).content.decode()
