from datetime import timedelta

import pytest

from keys.errors import InvalidInput
from keys.models import AuditEvent, Issuer
from keys.services.issuers import issuer_create, issuer_disable, issuer_update

pytestmark = pytest.mark.django_db


def test_new_issuer_has_the_documented_defaults(cli_actor):
    issuer = issuer_create(actor=cli_actor, name="plant-a")
    assert issuer.iss == "plant-a.pem"
    assert issuer.key_file_name == "plant-a.pem"
    assert issuer.audience == "neuronex"
    assert issuer.max_ttl == timedelta(days=365)
    assert issuer.default_ttl == timedelta(days=90)
    assert issuer.is_active


def test_bare_iss_style_uses_the_name_alone(cli_actor):
    issuer = issuer_create(actor=cli_actor, name="plant-a", iss_style="bare", audience="neuron")
    assert (issuer.iss, issuer.key_file_name, issuer.audience) == (
        "plant-a",
        "plant-a.pem",
        "neuron",
    )


def test_default_audience_comes_from_the_setting(cli_actor, settings):
    settings.PORTAL_DEFAULT_AUDIENCE = "eKuiper"
    assert issuer_create(actor=cli_actor, name="edge").audience == "eKuiper"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"audience": "ekuiper"}, "audience"),
        ({"audience": "other"}, "audience"),
        ({"iss_style": "upper"}, "iss_style"),
        ({"max_ttl": timedelta(0)}, "max_ttl"),
        ({"default_ttl": timedelta(days=400)}, "default_ttl"),
        ({"max_ttl": timedelta(days=7), "default_ttl": timedelta(days=8)}, "default_ttl"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(cli_actor, kwargs, field):
    with pytest.raises(InvalidInput) as error:
        issuer_create(actor=cli_actor, name="plant-a", **kwargs)
    assert error.value.field == field
    assert not Issuer.objects.exists()
    assert not AuditEvent.objects.exists()


def test_update_records_what_changed(issuer, cli_actor):
    issuer_update(actor=cli_actor, issuer=issuer, audience="neuron", description="line 3")
    event = AuditEvent.objects.get(action="issuer.update")
    assert event.details["changed"]["audience"] == ["neuronex", "neuron"]
    assert event.details["changed"]["description"] == ["", "line 3"]


def test_update_without_change_writes_no_event(issuer, cli_actor):
    issuer_update(actor=cli_actor, issuer=issuer, audience="neuronex")
    assert not AuditEvent.objects.filter(action="issuer.update").exists()


def test_the_name_cannot_be_changed(issuer, cli_actor):
    with pytest.raises(InvalidInput, match="cannot be changed: name"):
        issuer_update(actor=cli_actor, issuer=issuer, name="plant-b")


def test_disable_is_its_own_audit_action(issuer, cli_actor):
    issuer = issuer_disable(actor=cli_actor, issuer=issuer)
    assert not issuer.is_active
    assert AuditEvent.objects.filter(action="issuer.disable", object_id="plant-a").exists()
