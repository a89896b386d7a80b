"""The key jobs on an issuer's admin page, per role."""

import pytest
from cryptography.hazmat.primitives import serialization
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from keys import roles
from keys.models import AuditEvent, ExportTarget, KeyPair
from keys.services.exports import export_target
from keys.services.tokens import token_mint
from tests.conftest import rsa_key

pytestmark = pytest.mark.django_db

ROLES = [roles.AUDITORS, roles.ISSUERS, roles.KEY_ADMINS]


def login_as(client, role: str) -> User:
    user = User.objects.create_user(username=role.split()[-1], password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def url(name: str, issuer) -> str:
    return reverse(f"admin:keys_issuer_{name}", args=[issuer.pk])


def page(client, issuer) -> str:
    return client.get(url("change", issuer)).content.decode()


def test_the_page_shows_what_neuronex_needs(admin_client, issuer, key_pair, cli_actor):
    html = page(admin_client, issuer)
    assert "not exported yet" in html
    export_target(actor=cli_actor, target=ExportTarget.objects.get(name="default"))
    html = page(admin_client, issuer)
    assert "<code>plant-a.pem</code>" in html  # iss and key file
    assert "<code>neuronex</code>" in html
    assert key_pair.kid in html
    assert "current (written" in html  # the default target has the key


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (
            roles.AUDITORS,
            ["download-public"],
            ["rotate-key", "import-key", "mint-token", "export-now", "download-private"],
        ),
        (
            roles.ISSUERS,
            ["download-public", "mint-token"],
            ["rotate-key", "import-key", "export-now", "download-private"],
        ),
        (
            roles.KEY_ADMINS,
            [
                "download-public",
                "mint-token",
                "rotate-key",
                "import-key",
                "export-now",
                "download-private",
            ],
            [],
        ),
    ],
)
def test_each_role_sees_only_the_buttons_it_may_use(
    client, issuer, key_pair, role, visible, hidden
):
    login_as(client, role)
    html = page(client, issuer)
    for element in visible:
        assert f'id="{element}"' in html, element
    for element in hidden:
        assert f'id="{element}"' not in html, element


@pytest.mark.parametrize("role", [roles.AUDITORS, roles.ISSUERS])
@pytest.mark.parametrize("view", ["generate", "import", "rotate", "export", "private_key"])
def test_the_server_refuses_key_jobs_typed_by_hand(client, issuer, key_pair, role, view):
    login_as(client, role)
    assert client.get(url(view, issuer)).status_code == 403
    assert client.post(url(view, issuer), {"bits": 2048, "reason": "x"}).status_code == 403
    assert KeyPair.objects.count() == 1


def test_generate_shows_the_new_key_and_writes_the_file(
    admin_client, issuer, etc_dir, django_capture_on_commit_callbacks
):
    assert 'id="generate-key"' in page(admin_client, issuer)
    assert admin_client.get(url("generate", issuer)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url("generate", issuer), {"bits": "3072"}, follow=True)
    key_pair = KeyPair.objects.get(issuer=issuer)
    assert key_pair.bits == 3072
    assert f"kid {key_pair.kid}" in response.content.decode()
    assert (etc_dir / "plant-a.pem").read_text() == key_pair.public_pem


def test_generate_refuses_a_bad_size_as_a_form_error(admin_client, issuer):
    response = admin_client.post(url("generate", issuer), {"bits": "1024"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not KeyPair.objects.exists()


def test_import_takes_a_passphrase_protected_key(admin_client, issuer):
    pem = rsa_key(2048, 7).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"),
    )
    upload = SimpleUploadedFile("private.key", pem)
    response = admin_client.post(url("import", issuer), {"file": upload, "passphrase": "s3cret"})
    assert response.status_code == 302
    assert KeyPair.objects.get(issuer=issuer).origin == "imported"


@pytest.mark.parametrize(
    ("content", "passphrase", "says"),
    [
        (b"garbage", "", "not a PEM private key"),
        (None, "wrong", "passphrase is wrong"),
        (None, "", "protected by a passphrase"),
    ],
)
def test_import_failures_are_form_errors(admin_client, issuer, content, passphrase, says):
    if content is None:
        content = rsa_key(2048, 7).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    upload = SimpleUploadedFile("private.key", content)
    response = admin_client.post(url("import", issuer), {"file": upload, "passphrase": passphrase})
    assert response.status_code == 200
    assert says in response.content.decode()
    assert "s3cret" not in response.content.decode()
    assert not KeyPair.objects.exists()


def test_rotation_confirmation_states_what_stops_working(
    admin_client, issuer, key_pair, cli_actor, etc_dir, django_capture_on_commit_callbacks
):
    token_mint(actor=cli_actor, issuer=issuer, label="a")
    token_mint(actor=cli_actor, issuer=issuer, label="b")
    html = admin_client.get(url("rotate", issuer)).content.decode()
    assert "will stop accepting 2 unexpired tokens" in html
    assert 'id="rotate-confirm"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url("rotate", issuer), {"bits": "2048"})
    assert response.status_code == 302
    new = KeyPair.objects.get(issuer=issuer, status="active")
    assert new.kid != key_pair.kid
    assert (etc_dir / "plant-a.pem").read_text() == new.public_pem


def test_export_now_is_a_post(admin_client, issuer, key_pair, etc_dir):
    admin_client.get(url("export", issuer))
    assert not (etc_dir / "plant-a.pem").exists()
    response = admin_client.post(url("export", issuer), follow=True)
    assert (etc_dir / "plant-a.pem").exists()
    assert "Export to default" in response.content.decode()


def test_private_key_download_needs_a_reason_and_is_audited(admin_client, issuer, key_pair):
    confirmation = admin_client.get(url("private_key", issuer)).content.decode()
    assert "audit log" in confirmation
    assert "PRIVATE KEY" not in confirmation
    refused = admin_client.post(url("private_key", issuer), {"reason": ""})
    assert refused.status_code == 200
    assert not AuditEvent.objects.filter(action="key.download_private").exists()
    response = admin_client.post(url("private_key", issuer), {"reason": "move to HSM"})
    assert response["Content-Type"] == "application/x-pem-file"
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"-----BEGIN PRIVATE KEY-----")
    private = serialization.load_pem_private_key(response.content, password=None)
    assert (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
        == key_pair.public_pem
    )
    event = AuditEvent.objects.get(action="key.download_private")
    assert event.details["reason"] == "move to HSM"
    assert "PRIVATE" not in str(event.details)


def test_private_key_of_an_issuer_without_key_says_so(admin_client, issuer):
    response = admin_client.get(url("private_key", issuer), follow=True)
    assert "has no active key pair" in response.content.decode()
