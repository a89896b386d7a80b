"""Issuer names (neuronex-compat.md rule 4): the key file is ``<name>.pem`` and Neuron finds a key
by prefix, so names are plain lowercase, prefix-free and never shadow Neuron's or eKuiper's keys."""

import pytest
from django.db import DataError, IntegrityError, transaction

from keys.errors import Conflict, InvalidInput
from keys.models import AuditEvent, Issuer
from keys.neuronex.names import MAX_NAME_LENGTH, validate_name
from keys.services.issuers import issuer_create

BAD_NAMES = [
    pytest.param("", id="empty"),
    pytest.param("../x", id="path-traversal"),
    pytest.param("a/b", id="slash"),
    pytest.param("x.pem", id="dot-pem"),
    pytest.param("UPPER", id="uppercase"),
    pytest.param("neuron-x", id="neuron-prefix"),
    pytest.param("neuronex", id="neuronex"),
    pytest.param("sample_key1", id="sample-key-prefix"),
    pytest.param("a" * (MAX_NAME_LENGTH + 1), id="65-characters"),
    pytest.param("a\x00b", id="nul-byte"),
    pytest.param("ops\n", id="trailing-newline"),
    pytest.param("ops team", id="space"),
    pytest.param("-ops", id="leading-dash"),
    pytest.param("_ops", id="leading-underscore"),
]

GOOD_NAMES = [
    pytest.param("ops", id="word"),
    pytest.param("plant-a", id="dash"),
    pytest.param("line_3", id="underscore"),
    pytest.param("a", id="one-letter"),
    pytest.param("7", id="one-digit"),
    pytest.param("0-plant_b-9", id="mixed"),
    pytest.param("neu-ops", id="starts-like-neuron"),
    pytest.param("sample", id="starts-like-sample-key"),
    pytest.param("a" * MAX_NAME_LENGTH, id="64-characters"),
]


def counts() -> tuple[int, int]:
    return Issuer.objects.count(), AuditEvent.objects.count()


# --- validate_name ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES)
def test_validate_name_refuses_bad_names_on_the_name_field(name):
    with pytest.raises(InvalidInput) as excinfo:
        validate_name(name)
    assert excinfo.value.field == "name"
    assert excinfo.value.message


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_validate_name_accepts_good_names(name):
    validate_name(name)


def test_an_empty_name_is_reported_as_missing():
    with pytest.raises(InvalidInput, match="required"):
        validate_name("")


def test_a_name_longer_than_64_characters_is_refused_with_its_length():
    with pytest.raises(InvalidInput) as excinfo:
        validate_name("a" * 65)
    assert "64" in excinfo.value.message
    assert "65" in excinfo.value.message


@pytest.mark.parametrize("name", ["../x", "a/b", "x.pem", "UPPER", "ops team", "-ops"])
def test_a_malformed_name_is_refused_with_the_allowed_characters(name):
    with pytest.raises(InvalidInput) as excinfo:
        validate_name(name)
    assert "lowercase letters, digits, '-' and '_'" in excinfo.value.message
    assert ".pem" in excinfo.value.message


@pytest.mark.parametrize("name", ["neuron-x", "neuronex", "neuron"])
def test_a_name_starting_with_neuron_is_refused_because_it_overrides_neurons_login_key(name):
    with pytest.raises(InvalidInput) as excinfo:
        validate_name(name)
    assert "'neuron'" in excinfo.value.message
    assert "login key" in excinfo.value.message


@pytest.mark.parametrize("name", ["sample_key", "sample_key1"])
def test_a_name_starting_with_sample_key_is_refused_because_that_key_is_public(name):
    with pytest.raises(InvalidInput) as excinfo:
        validate_name(name)
    assert "'sample_key'" in excinfo.value.message
    assert "eKuiper" in excinfo.value.message


@pytest.mark.parametrize("name", ["n", "neu", "neuro"])
def test_a_name_that_is_the_start_of_neuron_is_refused(name):
    """Neuron's certs folder holds its own ``neuron.pem`` and finds keys by prefix: a token
    with the bare iss ``neu`` may be checked against ``neuron.pem``, so such names break the
    prefix-free set just as ``neuron-x`` does."""
    with pytest.raises(InvalidInput) as excinfo:
        validate_name(name)
    assert excinfo.value.field == "name"
    assert "neuron" in excinfo.value.message


# --- issuer_create ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES)
def test_issuer_create_refuses_bad_names_and_writes_nothing(db, cli_actor, name):
    before = counts()
    with pytest.raises(InvalidInput) as excinfo:
        issuer_create(actor=cli_actor, name=name)
    assert excinfo.value.field == "name"
    assert counts() == before


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_issuer_create_accepts_good_names_and_records_them(db, cli_actor, name):
    issuer = issuer_create(actor=cli_actor, name=name)
    issuer.refresh_from_db()
    assert issuer.name == name
    assert issuer.key_file_name == f"{name}.pem"
    assert AuditEvent.objects.filter(action="issuer.create", object_id=name).count() == 1


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        pytest.param("ops-team", "ops", id="new-is-prefix-of-existing"),
        pytest.param("ops", "ops-team", id="existing-is-prefix-of-new"),
        pytest.param("ops", "ops2", id="digit-suffix"),
    ],
)
def test_issuer_create_refuses_a_prefix_collision_and_writes_nothing(db, cli_actor, existing, new):
    issuer_create(actor=cli_actor, name=existing)
    before = counts()
    with pytest.raises(InvalidInput) as excinfo:
        issuer_create(actor=cli_actor, name=new)
    assert excinfo.value.field == "name"
    assert repr(existing) in excinfo.value.message
    assert counts() == before
    assert not Issuer.objects.filter(name=new).exists()


def test_the_prefix_collision_message_explains_neurons_prefix_lookup(db, cli_actor):
    issuer_create(actor=cli_actor, name="ops-team")
    with pytest.raises(InvalidInput) as excinfo:
        issuer_create(actor=cli_actor, name="ops")
    message = excinfo.value.message
    assert "prefix" in message
    assert "Neuron" in message
    assert "starts with the token's iss" in message


def test_prefix_collisions_count_disabled_issuers_too(db, cli_actor):
    old = issuer_create(actor=cli_actor, name="ops")
    old.is_active = False
    old.save(update_fields=["is_active"])
    with pytest.raises(InvalidInput):
        issuer_create(actor=cli_actor, name="ops-team")


def test_names_that_only_share_a_start_are_not_a_collision(db, cli_actor):
    issuer_create(actor=cli_actor, name="ops-a")
    issuer_create(actor=cli_actor, name="ops-b")
    assert set(Issuer.objects.values_list("name", flat=True)) == {"ops-a", "ops-b"}


def test_issuer_create_refuses_a_duplicate_name_with_a_conflict_and_writes_nothing(db, cli_actor):
    issuer_create(actor=cli_actor, name="ops")
    before = counts()
    with pytest.raises(Conflict) as excinfo:
        issuer_create(actor=cli_actor, name="ops")
    assert excinfo.value.field == "name"
    assert "exists already" in excinfo.value.message
    assert counts() == before


# --- The database's own CHECK constraint -----------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["UPPER", "x.pem", "a/b", "-ops", "ops\n", "neuronex", "sample_key1", ""],
)
def test_the_database_refuses_a_bad_name_written_around_the_service(db, name):
    with pytest.raises(IntegrityError), transaction.atomic():
        Issuer.objects.create(name=name)
    assert not Issuer.objects.exists()


def test_the_database_refuses_a_name_longer_than_64_characters(db):
    # PostgreSQL's varchar(64) answers first (DataError), SQLite's CHECK (IntegrityError).
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Issuer.objects.create(name="a" * 65)
    assert not Issuer.objects.exists()


def test_the_database_accepts_a_good_name_written_directly(db):
    Issuer.objects.create(name="a" * 64)
    assert Issuer.objects.filter(name="a" * 64).exists()
