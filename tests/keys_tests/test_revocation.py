"""Rule 6: no verifier has a deny-list, so the portal says until when a revoked token works."""

from datetime import timedelta

import pytest

from keys import clock
from keys.models import ExportTarget
from keys.selectors import token_accepted_until
from keys.services.exports import export_target
from keys.services.keypairs import keypair_rotate
from keys.services.tokens import token_mint, token_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def revoked(issuer, key_pair, cli_actor, now):
    record = token_mint(actor=cli_actor, issuer=issuer, label="scada", ttl=timedelta(days=30))
    return token_revoke(actor=cli_actor, token=record.record, reason="leaked")


def test_revoked_token_is_accepted_until_it_expires(revoked, now):
    assert token_accepted_until(revoked, now) == revoked.exp


def test_an_active_token_needs_no_such_warning(issuer, key_pair, cli_actor, now):
    record = token_mint(actor=cli_actor, issuer=issuer, label="scada").record
    assert token_accepted_until(record, now) is None


def test_nothing_is_accepted_after_exp(revoked, now):
    with clock.frozen_at(revoked.exp):
        assert token_accepted_until(revoked) is None


def test_the_old_key_still_in_a_folder_keeps_the_token_working(revoked, issuer, cli_actor):
    default = ExportTarget.objects.get(name="default")
    export_target(actor=cli_actor, target=default)
    keypair_rotate(actor=cli_actor, issuer=issuer)  # no export yet: the old file is still there
    revoked.refresh_from_db()
    assert token_accepted_until(revoked) == revoked.exp


def test_rotation_and_export_end_it(revoked, issuer, cli_actor):
    default = ExportTarget.objects.get(name="default")
    keypair_rotate(actor=cli_actor, issuer=issuer)
    export_target(actor=cli_actor, target=default)
    revoked.refresh_from_db()
    assert token_accepted_until(revoked) is None
