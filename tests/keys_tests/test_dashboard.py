from datetime import timedelta

import pytest
from django.urls import reverse

from keys import clock
from keys.models import ExportTarget
from keys.selectors import dashboard_figures
from keys.services.exports import export_target
from keys.services.tokens import token_mint, token_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens(issuer, key_pair, cli_actor, now):
    def mint(label, ttl):
        return token_mint(actor=cli_actor, issuer=issuer, label=label, ttl=ttl).record

    made = {
        "soon": mint("soon", timedelta(days=7)),  # exactly at the 7-day edge
        "month": mint("month", timedelta(days=20)),
        "long": mint("long", timedelta(days=90)),
        "revoked": mint("revoked", timedelta(days=90)),
    }
    token_revoke(actor=cli_actor, token=made["revoked"], reason="leaked")
    export_target(actor=cli_actor, target=ExportTarget.objects.get(name="default"))
    return made


def figures(now):
    return {figure["label"]: figure["count"] for figure in dashboard_figures(now)}


def test_figures_count_tokens_by_window(tokens, now):
    assert figures(now) == {
        "Active tokens": 3,
        "Expiring within 7 days": 1,
        "Expiring within 30 days": 2,
        "Revoked but still accepted by NeuronEX": 1,
        "Export targets out of sync": 0,
    }


def test_figures_follow_the_clock(tokens, now):
    later = now + timedelta(days=8)
    result = figures(later)
    assert result["Active tokens"] == 2
    assert result["Expiring within 30 days"] == 1  # "month" is 12 days away; "long" 82


def test_a_failing_target_is_out_of_sync(tokens, now, etc_dir):
    (etc_dir / "plant-a.pem").unlink()
    assert figures(now)["Export targets out of sync"] == 1


def test_the_index_shows_the_dashboard_with_links(admin_client, tokens, now):
    with clock.frozen_at(now):
        html = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="dashboard"' in html
    assert "Revoked but still accepted by NeuronEX" in html
    assert reverse("admin:keys_issuedtoken_changelist") + "?status=still_accepted" in html
    assert "NeuronEX Token Portal" in html


def test_each_link_opens_a_list(admin_client, tokens, now):
    for figure in dashboard_figures(now):
        assert admin_client.get(figure["url"]).status_code == 200
