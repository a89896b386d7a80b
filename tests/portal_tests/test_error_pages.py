import pytest
from django.contrib.auth.models import Group, User
from django.test import Client


@pytest.mark.django_db
def test_a_refusal_says_why_in_the_portals_look(client):
    user = User.objects.create_user(username="auditor", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Token auditors"))
    client.force_login(user)
    response = client.get("/admin/keys/issuedtoken/mint/")
    assert response.status_code == 403
    assert "Your role does not allow this" in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_address_is_a_plain_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "NeuronEX Token Portal" in response.content.decode()


def test_a_server_error_shows_no_traceback(issuer, monkeypatch):
    from keys.admin import issuers

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(issuers, "issuer_token_counts", broken)
    User.objects.create_superuser(username="root", password="pw")
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="root"))
    response = client.get(f"/admin/keys/issuer/{issuer.pk}/change/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body
