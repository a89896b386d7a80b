import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from keys.models import AuditEvent
from keys.services.audit import audit_record, audit_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(cli_actor, now):
    for index in range(5):
        audit_record(actor=cli_actor, action="test.event", details={"n": index, "text": "ä"})
    return list(AuditEvent.objects.order_by("seq"))


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=AuditEvent._meta.db_table), params)


def test_events_are_chained_in_order(chain):
    assert [event.seq for event in chain] == [1, 2, 3, 4, 5]
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.hash
    assert audit_verify() == (5, None)


def test_an_edited_event_is_found(chain):
    raw("UPDATE {table} SET actor_name = %s WHERE seq = 3", ["mallory"])
    checked, chain_break = audit_verify()
    assert (checked, chain_break.seq) == (2, 3)
    assert "altered" in chain_break.problem


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(chain):
    event = AuditEvent.objects.get(seq=3)
    event.details = {"n": 99}
    raw(
        "UPDATE {table} SET details = %s, hash = %s WHERE seq = 3",
        ['{"n": 99}', event.compute_hash()],
    )
    checked, chain_break = audit_verify()
    assert (checked, chain_break.seq) == (3, 4)


def test_a_deleted_event_is_found(chain):
    raw("DELETE FROM {table} WHERE seq = 2")
    checked, chain_break = audit_verify()
    assert (checked, chain_break.seq) == (1, 2)
    assert "missing" in chain_break.problem


def test_events_cannot_be_changed_or_deleted_through_the_orm(chain):
    event = chain[0]
    event.action = "other"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()


def test_verify_audit_log_command_reports_intact_log(chain, capsys):
    call_command("verify_audit_log")
    assert "5 event(s) verified" in capsys.readouterr().out


def test_verify_audit_log_command_fails_on_a_break(chain):
    raw("DELETE FROM {table} WHERE seq = 4")
    with pytest.raises(CommandError, match="broken at event #4"):
        call_command("verify_audit_log")


def test_failed_logins_are_recorded(client):
    client.post("/admin/login/", {"username": "nobody", "password": "wrong"})
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor_name == "nobody"
    assert event.remote_addr == "127.0.0.1"
    assert "wrong" not in str(event.details)
