"""The token expiry report page of the admin: who may see it, and that every figure on it is a
link to the token list showing exactly the tokens it counts."""

import html
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from keys import clock, roles
from keys.services.tokens import token_mint
from tests.api_client import API, client_for
from tests.keys_tests.test_token_report import FIGURES, TOTAL, build_report_tokens

pytestmark = pytest.mark.django_db

REPORT = "admin:keys_issuedtoken_report"
CHANGELIST = "admin:keys_issuedtoken_changelist"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def report_tokens(cli_actor, now):
    return build_report_tokens(cli_actor, now)


def user_in(role: str | None, *, is_staff: bool = True) -> User:
    user = User.objects.create_user(
        username=(role or "no-role").lower().replace(" ", "-"), password="pw", is_staff=is_staff
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


def parse_svg(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - the portal's own output, checked to be well-formed


def report_page(client):
    response = client.get(reverse(REPORT))
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


def listed_count(client, url: str) -> int:
    """How many tokens the token list at ``url`` says it shows."""
    response = client.get(url)
    assert response.status_code == 200, url  # an invalid filter redirects to ?e=1
    return response.context["cl"].result_count


# --- Who may see it ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.AUDITORS, roles.ISSUERS, roles.KEY_ADMINS])
def test_every_role_sees_the_report(client, report_tokens, role):
    client.force_login(user_in(role))
    assert report_page(client).context["total_row"][0].value == TOTAL["active"]


def test_superusers_see_the_report(admin_client, report_tokens):
    report_page(admin_client)


def test_anonymous_users_are_sent_to_the_login_page(client, report_tokens):
    response = client.get(reverse(REPORT))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_a_role_are_refused(client, report_tokens):
    client.force_login(user_in(None))
    assert client.get(reverse(REPORT)).status_code == 403


def test_users_who_are_not_staff_are_sent_to_the_login_page(client, report_tokens):
    client.force_login(user_in(roles.AUDITORS, is_staff=False))
    response = client.get(reverse(REPORT))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_token_list_and_the_dashboard_link_to_the_report(admin_client, report_tokens):
    url = reverse(REPORT)
    assert url == "/admin/keys/issuedtoken/report/"
    token_list = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert f'href="{url}" id="token-report-link"' in token_list
    dashboard = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{url}" id="dashboard-token-report"' in dashboard


# --- Figures and their links ---------------------------------------------------------------


def test_the_table_shows_each_issuer_and_the_total(admin_client, report_tokens):
    context = report_page(admin_client).context
    columns = list(FIGURES["plant-a"])
    assert len(context["columns"]) == len(columns)
    shown = {
        row["issuer"]: dict(zip(columns, (figure.value for figure in row["figures"]), strict=True))
        for row in context["issuer_rows"]
    }
    assert shown == FIGURES
    assert [figure.value for figure in context["total_row"]] == list(TOTAL.values())


def test_every_figure_links_to_a_list_of_exactly_its_tokens(admin_client, report_tokens):
    response = report_page(admin_client)
    page = response.content.decode()
    figures = [figure for row in response.context["issuer_rows"] for figure in row["figures"]]
    figures += response.context["total_row"]
    assert len(figures) == 4 * 7
    for figure in figures:
        assert f'<a href="{html.escape(figure.url)}">{figure.value}</a>' in page
        assert listed_count(admin_client, figure.url) == figure.value, figure.url


def test_retired_key_and_still_accepted_figures_open_the_right_tokens(admin_client, report_tokens):
    rows = {
        row["issuer"]: row["figures"] for row in report_page(admin_client).context["issuer_rows"]
    }
    still_accepted, retired = rows["plant-a"][5], rows["plant-a"][6]
    listed = admin_client.get(retired.url).context["cl"].result_list
    assert [token.label for token in listed] == ["a old active"]
    listed = admin_client.get(still_accepted.url).context["cl"].result_list
    assert [token.label for token in listed] == ["a revoked accepted"]


def test_every_chart_cell_links_to_a_list_of_exactly_its_tokens(admin_client, report_tokens):
    charts = report_page(admin_client).context["charts"]
    linked = 0
    for chart in charts:
        for row in chart.rows:
            for cell in row.cells:
                if cell.url is not None:
                    linked += 1
                    if cell.value:  # the empty ones open an empty list: checked once below
                        assert listed_count(admin_client, cell.url) == cell.value, cell.url
    assert linked == 26 * 3 + 26 * 2  # plant-a, plant-b and the total; minted and revoked
    empty = charts[0].rows[2].cells[-1]
    assert empty.value == 0
    assert listed_count(admin_client, empty.url) == 0


def test_the_longest_lifetimes_link_to_their_tokens(admin_client, report_tokens):
    response = report_page(admin_client)
    longest = response.context["longest"]
    assert len(longest) == 10
    assert longest[0]["token"].label == "a longest"
    for entry in longest:
        token = admin_client.get(entry["url"]).context["original"]
        assert token.jti == entry["token"].jti
        assert f'href="{entry["url"]}"' in response.content.decode()


def test_the_page_follows_the_clock(admin_client, report_tokens, now):
    with clock.frozen_at(now + timedelta(days=8)):
        context = report_page(admin_client).context
        figure = context["total_row"][0]
        assert figure.value == TOTAL["active"] - 6  # the three of week 0 and of week 1
        assert listed_count(admin_client, figure.url) == figure.value


def test_the_api_gives_the_page_figures(admin_client, report_tokens):
    context = report_page(admin_client).context
    body = client_for(roles.AUDITORS).get(f"{API}/reports/tokens/").json()
    for row, api_row in zip(context["issuer_rows"], body["issuers"], strict=True):
        assert api_row["issuer"] == row["issuer"]
        assert [api_row[name] for name in FIGURES["plant-a"]] == [
            figure.value for figure in row["figures"]
        ]
    assert list(body["total"].values()) == [figure.value for figure in context["total_row"]]
    assert [entry["jti"] for entry in body["longest_remaining"]] == [
        str(entry["token"].jti) for entry in context["longest"]
    ]


# --- What the page shows -------------------------------------------------------------------


def test_the_charts_are_inline_svg_with_a_table_of_their_data(admin_client, report_tokens):
    page = report_page(admin_client).content.decode()
    svgs = re.findall(r'<svg [^>]*class="token-chart".*?</svg>', page, flags=re.S)
    assert len(svgs) == 2
    for svg in svgs:
        root = parse_svg(svg)
        assert root.get("role") == "img"
        assert root.find(f"{SVG}title").text
        assert root.find(f"{SVG}desc").text
    legend = {text.text for text in parse_svg(svgs[0]).iter(f"{SVG}text")}
    assert {"plant-a", "plant-b"} <= legend
    assert {"minted", "revoked"} <= {text.text for text in parse_svg(svgs[1]).iter(f"{SVG}text")}
    assert page.count("<details>") == 2
    assert "the data as a table" in page
    assert "No tokens expire" not in page


def test_labels_are_escaped(admin_client, issuer, key_pair, cli_actor, now):
    label = '<script>alert("x")</script>'
    token_mint(actor=cli_actor, issuer=issuer, label=label, ttl=timedelta(days=3))
    page = report_page(admin_client).content.decode()
    assert label not in page
    assert html.escape(label) in page


def test_an_empty_portal_has_a_report_too(admin_client, db):
    page = report_page(admin_client).content.decode()
    assert "No issuers yet." in page
    assert "No active tokens." in page
    assert "No tokens expire in the next 26 weeks" in page
    assert "No tokens were minted or revoked in the past 26 weeks" in page
