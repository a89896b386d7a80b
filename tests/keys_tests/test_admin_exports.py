"""The admin's key-file features, through the test client, per role: rotating a key exports it,
"Export now" and "Check now", export targets made through the services, public.pem and the
public-keys zip. None of these pages may carry private key material."""

import hashlib
import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.messages import constants as levels
from django.contrib.messages import get_messages
from django.urls import reverse

from keys import crypto, roles
from keys.models import AuditEvent, ExportTarget, KeyPair
from keys.services.exports import export_target
from keys.services.issuers import issuer_create, issuer_disable
from keys.services.keypairs import keypair_generate

pytestmark = pytest.mark.django_db

ROLES = [roles.AUDITORS, roles.ISSUERS, roles.KEY_ADMINS]
READ_ONLY_ROLES = [roles.AUDITORS, roles.ISSUERS]
EVERY_ROLE = ["superuser", *ROLES]


def user_in(role: str) -> User:
    user = User.objects.create_user(
        username=role.lower().replace(" ", "-"), password="pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def log_in(client, role: str):
    if role == "superuser":
        client.force_login(
            User.objects.create_superuser(username="root", password="pw", email="root@example.com")
        )
    else:
        client.force_login(user_in(role))
    return client


def default_target() -> ExportTarget:
    return ExportTarget.objects.get(name="default")


def action(client, model: str, name: str, *objects, follow: bool = False):
    return client.post(
        reverse(f"admin:keys_{model}_changelist"),
        {"action": name, "_selected_action": [obj.pk for obj in objects]},
        follow=follow,
    )


def messages_of(response) -> list[tuple[int, str]]:
    return [(message.level, message.message) for message in get_messages(response.wsgi_request)]


def offered_actions(client, model: str) -> set[str]:
    response = client.get(reverse(f"admin:keys_{model}_changelist"))
    assert response.status_code == 200
    form = response.context["action_form"]
    if form is None:
        return set()
    return {value for value, _ in form.fields["action"].choices if value}


def assert_no_private_key(content: bytes, key_pair: KeyPair) -> None:
    assert b"PRIVATE KEY" not in content
    assert key_pair.private_key_encrypted.encode() not in content
    private = crypto.private_pem(crypto.decrypt_private_key(key_pair.private_key_encrypted))
    assert private.splitlines()[1].encode() not in content


TARGET_FORM = {
    "profile": "neuron",
    "enabled": "on",
    "auto_export": "on",
    "files-TOTAL_FORMS": "0",
    "files-INITIAL_FORMS": "0",
}


# Rotating a key exports it --------------------------------------------------------------------


def test_a_key_administrator_rotating_a_key_rewrites_the_exported_file(
    client, issuer, key_pair, cli_actor, etc_dir, django_capture_on_commit_callbacks
):
    """The done-when scenario. The test runs inside a transaction that is never committed, so
    the on_commit export is run by django_capture_on_commit_callbacks(execute=True) as the
    request's transaction ends; the transactional test below shows the same with real commits,
    as the server runs it."""
    export_target(actor=cli_actor, target=default_target())
    assert (etc_dir / "plant-a.pem").read_text() == key_pair.public_pem
    log_in(client, roles.KEY_ADMINS)
    assert "export_now" in offered_actions(client, "issuer")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = confirm_rotation(client, issuer)
    assert response.status_code == 302
    assert callbacks, "the rotation schedules the auto-export on commit"

    new_key = KeyPair.objects.get(issuer=issuer, status=KeyPair.Status.ACTIVE)
    assert new_key.kid != key_pair.kid
    assert (etc_dir / "plant-a.pem").read_text() == new_key.public_pem
    assert new_key.public_pem != key_pair.public_pem
    key_pair.refresh_from_db()
    assert key_pair.status == KeyPair.Status.RETIRED
    rotate = AuditEvent.objects.get(action="key.rotate")
    assert (rotate.channel, rotate.actor_name) == ("admin", "key-administrators")
    assert rotate.details["replaced_kid"] == key_pair.kid
    assert AuditEvent.objects.filter(action="export.run").count() == 2
    [(level, text)] = messages_of(response)
    assert level == levels.SUCCESS
    assert text.startswith(f"Rotated plant-a: key {new_key.kid} (2048 bits) is active")
    assert_no_private_key(response.content, key_pair)


def confirm_rotation(client, issuer):
    """Confirm the rotation on the issuer's rotation page, as an operator does."""
    return client.post(reverse("admin:keys_issuer_rotate", args=[issuer.pk]), {"bits": "2048"})


def key_administrator_without_migrations() -> User:
    """A key administrator for a transactional test: the flush after an earlier transactional
    test removes the groups the data migration made, so make the role's group again from the
    same table of permissions."""
    group, _ = Group.objects.get_or_create(name=roles.KEY_ADMINS)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="keys",
            codename__in=roles.ROLE_PERMISSIONS[roles.KEY_ADMINS],
        )
    )
    user = User.objects.create_user(username="key-admin", password="pw", is_staff=True)
    user.groups.add(group)
    return user


@pytest.mark.django_db(transaction=True)
def test_with_real_commits_the_rotation_request_itself_rewrites_the_file(client, etc_dir):
    from keys.services.actor import Actor

    actor = Actor(user=None, channel="cli", name="cli:test")
    issuer = issuer_create(actor=actor, name="plant-a")
    old_key = keypair_generate(actor=actor, issuer=issuer)
    # Committed at once, so the auto-export has run already.
    assert (etc_dir / "plant-a.pem").read_text() == old_key.public_pem
    client.force_login(key_administrator_without_migrations())

    response = confirm_rotation(client, issuer)

    assert response.status_code == 302
    new_key = KeyPair.objects.get(issuer=issuer, status=KeyPair.Status.ACTIVE)
    assert (etc_dir / "plant-a.pem").read_text() == new_key.public_pem != old_key.public_pem


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
@pytest.mark.parametrize("name", ["rotate", "export_now"])
def test_auditors_and_token_issuers_cannot_rotate_or_export_issuers(
    client, issuer, key_pair, etc_dir, django_capture_on_commit_callbacks, role, name
):
    log_in(client, role)
    assert "export_now" not in offered_actions(client, "issuer")
    events = AuditEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        if name == "rotate":
            response = confirm_rotation(client, issuer)
        else:
            response = action(client, "issuer", name, issuer)

    assert response.status_code in (200, 302, 403)
    assert list(KeyPair.objects.values_list("kid", "status")) == [(key_pair.kid, "active")]
    assert AuditEvent.objects.count() == events
    assert list(etc_dir.iterdir()) == []
    assert not any(level == levels.SUCCESS for level, _ in messages_of(response))


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_auditors_and_token_issuers_cannot_export_targets(client, issuer, key_pair, etc_dir, role):
    log_in(client, role)
    assert offered_actions(client, "exporttarget") == {"check_now"}
    response = action(client, "exporttarget", "export_now", default_target())
    assert response.status_code in (200, 302, 403)
    assert list(etc_dir.iterdir()) == []
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


# Export now and Check now ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["superuser", roles.KEY_ADMINS])
def test_export_now_on_a_target_writes_the_files(client, issuer, key_pair, etc_dir, role):
    log_in(client, role)
    response = action(client, "exporttarget", "export_now", default_target())
    assert response.status_code == 302
    assert (etc_dir / "plant-a.pem").read_text() == key_pair.public_pem
    assert messages_of(response) == [
        (
            levels.SUCCESS,
            f"Export to default ({etc_dir}): wrote plant-a.pem; 0 file(s) already current.",
        )
    ]
    assert AuditEvent.objects.get(action="export.run").channel == "admin"


@pytest.mark.parametrize("role", ["superuser", roles.KEY_ADMINS])
def test_export_now_on_issuers_writes_the_files(client, issuer, key_pair, etc_dir, role):
    log_in(client, role)
    response = action(client, "issuer", "export_now", issuer, follow=True)
    assert response.status_code == 200
    assert (etc_dir / "plant-a.pem").read_text() == key_pair.public_pem
    shown = [(message.level, message.message) for message in response.context["messages"]]
    assert shown == [
        (
            levels.SUCCESS,
            f"Export to default ({etc_dir}): wrote plant-a.pem; 0 file(s) already current.",
        )
    ]
    assert "wrote plant-a.pem" in response.content.decode()
    assert_no_private_key(response.content, key_pair)


def test_export_now_reports_a_failed_export_as_an_error(admin_client, issuer, key_pair, etc_dir):
    (etc_dir / "plant-a.pem").write_text("somebody else's key\n")
    response = action(admin_client, "exporttarget", "export_now", default_target())
    [(level, text)] = messages_of(response)
    assert level == levels.ERROR
    assert "plant-a.pem exists but was not written by the portal" in text
    assert (etc_dir / "plant-a.pem").read_text() == "somebody else's key\n"


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_check_now_shows_the_findings_as_messages(
    client, issuer, key_pair, cli_actor, etc_dir, role
):
    export_target(actor=cli_actor, target=default_target())
    (etc_dir / "plant-a.pem.bak").write_text(key_pair.public_pem)
    log_in(client, role)
    assert "check_now" in offered_actions(client, "exporttarget")

    response = action(client, "exporttarget", "check_now", default_target())

    assert response.status_code == 302
    found = messages_of(response)
    errors = [text for level, text in found if level == levels.ERROR]
    assert any("plant-a.pem.bak" in text for text in errors), found
    assert all(text.startswith("default: ") and " Fix: " in text for _, text in found)


def test_check_now_on_a_clean_folder_says_so(admin_client, issuer, key_pair, cli_actor):
    export_target(actor=cli_actor, target=default_target())
    response = action(admin_client, "exporttarget", "check_now", default_target())
    assert messages_of(response) == [(levels.SUCCESS, "default: in sync, nothing to report.")]


def test_check_now_reports_a_missing_file(admin_client, issuer, key_pair):
    response = action(admin_client, "exporttarget", "check_now", default_target())
    [(level, text)] = messages_of(response)
    assert level == levels.ERROR
    assert "plant-a.pem is missing" in text


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_the_target_page_shows_the_findings(client, issuer, key_pair, cli_actor, etc_dir, role):
    export_target(actor=cli_actor, target=default_target())
    (etc_dir / "plant-a.pem.bak").write_text(key_pair.public_pem)
    log_in(client, role)
    response = client.get(reverse("admin:keys_exporttarget_change", args=[default_target().pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "drift and compatibility check" in html.lower()
    assert "plant-a.pem.bak" in html
    assert "<strong>ERROR</strong>" in html
    assert_no_private_key(response.content, key_pair)


def test_the_target_page_of_a_clean_folder_says_in_sync(admin_client, issuer, key_pair, cli_actor):
    export_target(actor=cli_actor, target=default_target())
    url = reverse("admin:keys_exporttarget_change", args=[default_target().pk])
    assert "In sync; nothing to report." in admin_client.get(url).content.decode()


# Export targets made in the admin -------------------------------------------------------------


@pytest.mark.parametrize("role", ["superuser", roles.KEY_ADMINS])
def test_a_relative_path_is_a_form_error_and_creates_nothing(client, db, role):
    log_in(client, role)
    response = client.post(
        reverse("admin:keys_exporttarget_add"),
        {"name": "gateway", "path": "relative/certs", **TARGET_FORM},
    )
    assert response.status_code == 200
    assert "is not an absolute path" in response.content.decode()
    assert "path" in response.context["adminform"].form.errors
    assert not ExportTarget.objects.filter(name="gateway").exists()
    assert not AuditEvent.objects.filter(action="target.create").exists()


@pytest.mark.parametrize("role", ["superuser", roles.KEY_ADMINS])
def test_a_target_created_in_the_admin_is_audited(client, db, tmp_path, role):
    log_in(client, role)
    folder = tmp_path / "certs"
    response = client.post(
        reverse("admin:keys_exporttarget_add"),
        {"name": "gateway", "path": str(folder), **TARGET_FORM},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    target = ExportTarget.objects.get(name="gateway")
    assert (target.path, target.profile, target.enabled) == (str(folder), "neuron", True)
    event = AuditEvent.objects.get(action="target.create")
    assert event.channel == "admin"
    assert event.details["path"] == str(folder)
    assert event.details["profile"] == "neuron"


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_only_key_administrators_may_add_targets(client, db, tmp_path, role):
    log_in(client, role)
    assert client.get(reverse("admin:keys_exporttarget_add")).status_code == 403
    response = client.post(
        reverse("admin:keys_exporttarget_add"),
        {"name": "gateway", "path": str(tmp_path), **TARGET_FORM},
    )
    assert response.status_code == 403
    assert not ExportTarget.objects.filter(name="gateway").exists()


@pytest.mark.parametrize("role", ["superuser", roles.KEY_ADMINS])
def test_the_default_targets_path_is_read_only(client, db, etc_dir, tmp_path, role):
    admin_client = log_in(client, role)
    target = default_target()
    url = reverse("admin:keys_exporttarget_change", args=[target.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "path" not in form.fields
    assert 'name="path"' not in response.content.decode()

    response = admin_client.post(
        url, {"path": str(tmp_path / "elsewhere"), **TARGET_FORM, "profile": "neuronex"}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    target.refresh_from_db()
    assert target.path != str(tmp_path / "elsewhere")
    assert target.folder == etc_dir
    assert not AuditEvent.objects.filter(action="target.update").exists()


@pytest.mark.parametrize("role", ["superuser", roles.KEY_ADMINS])
def test_another_targets_path_is_editable(client, cli_actor, tmp_path, role):
    from keys.services.targets import target_create

    admin_client = log_in(client, role)

    target = target_create(actor=cli_actor, name="gateway", path=str(tmp_path / "a"))
    url = reverse("admin:keys_exporttarget_change", args=[target.pk])
    assert "path" in admin_client.get(url).context["adminform"].form.fields
    response = admin_client.post(url, {"path": str(tmp_path / "b"), **TARGET_FORM})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.path == str(tmp_path / "b")
    assert AuditEvent.objects.get(action="target.update").details["changed"]["path"] == [
        str(tmp_path / "a"),
        str(tmp_path / "b"),
    ]


# public.pem ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_every_role_can_download_public_pem(client, issuer, key_pair, role):
    log_in(client, role)
    response = client.get(reverse("admin:keys_issuer_public_pem", args=[issuer.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-pem-file"
    assert response["Content-Disposition"] == 'attachment; filename="plant-a.pem"'
    assert response.content == key_pair.public_pem.encode()
    assert_no_private_key(response.content, key_pair)


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_the_issuer_list_links_public_pem(client, issuer, key_pair, role):
    log_in(client, role)
    response = client.get(reverse("admin:keys_issuer_changelist"))
    html = response.content.decode()
    assert reverse("admin:keys_issuer_public_pem", args=[issuer.pk]) in html
    assert reverse("admin:keys_issuer_public_keys_zip") in html
    assert_no_private_key(response.content, key_pair)


def test_an_issuer_without_an_active_key_gives_404(admin_client, issuer):
    response = admin_client.get(reverse("admin:keys_issuer_public_pem", args=[issuer.pk]))
    assert response.status_code == 404


def test_an_unknown_issuer_gives_404(admin_client, db):
    response = admin_client.get(reverse("admin:keys_issuer_public_pem", args=[999999]))
    assert response.status_code == 404


@pytest.mark.parametrize("url_name", ["public_pem", "public_keys_zip"])
def test_anonymous_users_are_sent_to_the_login_page(client, issuer, key_pair, url_name):
    args = [issuer.pk] if url_name == "public_pem" else []
    response = client.get(reverse(f"admin:keys_issuer_{url_name}", args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert b"PUBLIC KEY" not in response.content


# The public-keys zip -------------------------------------------------------------------------


def open_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "neuronex-public-keys.zip" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_every_role_can_download_the_zip_with_a_manifest(client, issuer, key_pair, role):
    log_in(client, role)
    archive = open_zip(client.get(reverse("admin:keys_issuer_public_keys_zip")))
    assert sorted(archive.namelist()) == ["manifest.json", "plant-a.pem"]
    content = archive.read("plant-a.pem")
    assert content == key_pair.public_pem.encode()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest == [
        {
            "file": "plant-a.pem",
            "iss": "plant-a.pem",
            "aud": "neuronex",
            "kid": key_pair.kid,
            "sha256": hashlib.sha256(content).hexdigest(),
        }
    ]
    for name in archive.namelist():
        assert_no_private_key(archive.read(name), key_pair)


def test_the_zip_leaves_out_disabled_issuers_and_issuers_without_a_key(
    admin_client, issuer, key_pair, cli_actor
):
    plant_b = issuer_create(actor=cli_actor, name="plant-b", iss_style="bare", audience="neuron")
    plant_b_key = keypair_generate(actor=cli_actor, issuer=plant_b)
    plant_c = issuer_create(actor=cli_actor, name="plant-c")
    keypair_generate(actor=cli_actor, issuer=plant_c)
    issuer_disable(actor=cli_actor, issuer=plant_c)
    issuer_create(actor=cli_actor, name="plant-d")  # no key yet

    archive = open_zip(admin_client.get(reverse("admin:keys_issuer_public_keys_zip")))
    assert sorted(archive.namelist()) == ["manifest.json", "plant-a.pem", "plant-b.pem"]
    manifest = json.loads(archive.read("manifest.json"))
    assert [entry["file"] for entry in manifest] == ["plant-a.pem", "plant-b.pem"]
    entry = manifest[1]
    assert (entry["iss"], entry["aud"], entry["kid"]) == ("plant-b", "neuron", plant_b_key.kid)
    for entry in manifest:
        assert entry["sha256"] == hashlib.sha256(archive.read(entry["file"])).hexdigest()


def test_the_zip_with_no_keys_holds_an_empty_manifest(admin_client, issuer):
    archive = open_zip(admin_client.get(reverse("admin:keys_issuer_public_keys_zip")))
    assert archive.namelist() == ["manifest.json"]
    assert json.loads(archive.read("manifest.json")) == []
