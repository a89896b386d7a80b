import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from keys import roles
from keys.models import AuditEvent, Issuer
from keys.services.tokens import token_mint

pytestmark = pytest.mark.django_db

MODELS = ["issuer", "keypair", "issuedtoken", "exporttarget", "auditevent"]


def user_in(role: str) -> User:
    user = User.objects.create_user(
        username=role.lower().replace(" ", "-"), password="pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def token(issuer, key_pair, cli_actor):
    return token_mint(actor=cli_actor, issuer=issuer, label="line 3 SCADA")


@pytest.fixture
def objects(token, issuer, key_pair):
    from keys.models import ExportTarget

    return {
        "issuer": issuer,
        "keypair": key_pair,
        "issuedtoken": token.record,
        "exporttarget": ExportTarget.objects.get(name="default"),
        "auditevent": AuditEvent.objects.first(),
    }


@pytest.mark.parametrize("role", [roles.AUDITORS, roles.ISSUERS, roles.KEY_ADMINS])
@pytest.mark.parametrize("model", MODELS)
def test_every_role_can_read_every_page(client, objects, role, model):
    client.force_login(user_in(role))
    assert client.get(reverse(f"admin:keys_{model}_changelist")).status_code == 200
    change = reverse(f"admin:keys_{model}_change", args=[objects[model].pk])
    assert client.get(change).status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_anonymous_users_are_sent_to_the_login_page(client, objects, model):
    response = client.get(reverse(f"admin:keys_{model}_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    ("role", "status"), [(roles.AUDITORS, 403), (roles.ISSUERS, 403), (roles.KEY_ADMINS, 200)]
)
def test_only_key_administrators_may_add_issuers(client, db, role, status):
    client.force_login(user_in(role))
    assert client.get(reverse("admin:keys_issuer_add")).status_code == status


def test_issuer_created_in_the_admin_goes_through_the_service(client, db):
    client.force_login(user_in(roles.KEY_ADMINS))
    response = client.post(
        reverse("admin:keys_issuer_add"),
        {
            "name": "plant-b",
            "iss_style": "filename",
            "audience": "neuronex",
            "default_ttl": "90 00:00:00",
            "max_ttl": "365 00:00:00",
            "description": "",
        },
    )
    assert response.status_code == 302
    issuer = Issuer.objects.get(name="plant-b")
    event = AuditEvent.objects.get(action="issuer.create")
    assert event.channel == "admin"
    assert event.actor_name == "key-administrators"
    assert issuer.created_by.username == "key-administrators"


def test_issuer_name_rules_are_form_errors(client, issuer):
    client.force_login(user_in(roles.KEY_ADMINS))
    response = client.post(
        reverse("admin:keys_issuer_add"),
        {
            "name": "plant",
            "iss_style": "filename",
            "audience": "neuronex",
            "default_ttl": "90 00:00:00",
            "max_ttl": "365 00:00:00",
        },
    )
    assert response.status_code == 200
    assert "one name is a prefix of the other" in response.content.decode()
    assert not Issuer.objects.filter(name="plant").exists()


def test_issuer_change_is_audited(client, issuer):
    client.force_login(user_in(roles.KEY_ADMINS))
    response = client.post(
        reverse("admin:keys_issuer_change", args=[issuer.pk]),
        {
            "iss_style": "bare",
            "audience": "neuron",
            "default_ttl": "90 00:00:00",
            "max_ttl": "365 00:00:00",
            "description": "",
            "is_active": "on",
            "key_pairs-TOTAL_FORMS": "0",
            "key_pairs-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    issuer.refresh_from_db()
    assert (issuer.iss_style, issuer.audience) == ("bare", "neuron")
    assert AuditEvent.objects.get(action="issuer.update").details["changed"]["audience"] == [
        "neuronex",
        "neuron",
    ]


@pytest.mark.parametrize("model", ["issuedtoken", "auditevent", "keypair"])
def test_evidence_is_read_only_even_for_superusers(admin_client, objects, model):
    obj = objects[model]
    assert admin_client.get(reverse(f"admin:keys_{model}_add")).status_code == 403
    delete = reverse(f"admin:keys_{model}_delete", args=[obj.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_key_pair_page_shows_the_public_key_and_never_the_private_key(admin_client, key_pair):
    from keys import crypto

    html = admin_client.get(reverse("admin:keys_keypair_change", args=[key_pair.pk])).content
    assert b"BEGIN PUBLIC KEY" in html
    assert b"PRIVATE KEY" not in html
    assert key_pair.private_key_encrypted.encode() not in html
    private = crypto.private_pem(crypto.decrypt_private_key(key_pair.private_key_encrypted))
    assert private.splitlines()[1].encode() not in html


def test_token_pages_never_show_the_token(admin_client, token):
    for url in (
        reverse("admin:keys_issuedtoken_changelist"),
        reverse("admin:keys_issuedtoken_change", args=[token.record.pk]),
        reverse("admin:keys_auditevent_changelist"),
    ):
        html = admin_client.get(url).content.decode()
        assert token.token not in html
        assert token.token.split(".")[2] not in html


def test_token_list_filters_by_status(admin_client, token):
    url = reverse("admin:keys_issuedtoken_changelist")
    assert "line 3 SCADA" in admin_client.get(url, {"status": "active"}).content.decode()
    assert "line 3 SCADA" not in admin_client.get(url, {"status": "revoked"}).content.decode()


def test_roles_hold_exactly_the_permissions_of_keys_roles(db):
    for role, codenames in roles.ROLE_PERMISSIONS.items():
        held = Group.objects.get(name=role).permissions.values_list("codename", flat=True)
        assert sorted(held) == sorted(codenames)


def test_roles_hold_the_documented_permissions(db):
    def codenames(role):
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    auditors, issuers, admins = (
        codenames(r) for r in (roles.AUDITORS, roles.ISSUERS, roles.KEY_ADMINS)
    )
    assert all(code.startswith("view_") for code in auditors)
    assert issuers - auditors == {"mint_token", "revoke_token"}
    assert {"download_private_key", "add_issuer", "export_keys"} <= admins - issuers
    assert not any(code.startswith("delete_") for code in admins)
