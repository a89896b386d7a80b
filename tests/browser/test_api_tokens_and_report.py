"""In a real browser: an API token made in the admin, its key shown once with a working copy
button, and the expiry report with its charts."""

import json
import urllib.request
from datetime import timedelta

from django.contrib.auth.models import User
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from keys.services.actor import Actor
from keys.services.issuers import issuer_create
from keys.services.keypairs import keypair_generate
from keys.services.tokens import token_mint

PASSWORD = "correct horse battery staple"


def api_get(base_url: str, path: str, key: str) -> dict:
    url = base_url + path  # the live server's http:// address
    request = urllib.request.Request(url, headers={"Authorization": f"Token {key}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def test_an_api_token_made_in_the_admin_works_and_is_shown_once(browser, live_server):
    User.objects.create_superuser(username="operator", password=PASSWORD, email="o@example.com")
    browser.log_in("operator", PASSWORD)
    browser.open("admin:knox_authtoken_changelist")
    browser.click_and_load(browser.by_id("create-api-token"))
    browser.fill("id_lifetime", "30d")
    browser.click_and_load(browser.by_id("create-api-token-submit"))

    key = browser.by_id("api-token-key").text.strip()
    assert browser.by_id("authorization-header").text.strip() == f"Authorization: Token {key}"
    browser.by_id("copy-key").click()
    browser.wait().until(
        lambda driver: driver.find_element(By.ID, "copy-status").text,
        message="the copy button said nothing",
    )
    assert api_get(live_server.url, "/api/v1/issuers/", key) == []

    browser.open("admin:knox_authtoken_changelist")
    assert key not in browser.driver.page_source


def test_the_report_shows_the_figures_and_both_charts(browser, live_server):
    User.objects.create_superuser(username="operator", password=PASSWORD, email="o@example.com")
    actor = Actor.cli()
    issuer = issuer_create(actor=actor, name="plant-a")
    keypair_generate(actor=actor, issuer=issuer)
    for days in (3, 20, 90):
        token_mint(actor=actor, issuer=issuer, label=f"{days} days", ttl=timedelta(days=days))
    browser.log_in("operator", PASSWORD)
    browser.open("admin:keys_issuedtoken_changelist")
    browser.click_and_load(browser.by_id("token-report-link"))

    figures = browser.by_id("report-figures")
    assert "plant-a" in figures.text
    charts = browser.driver.find_elements(By.CSS_SELECTOR, "svg[role=img]")
    assert len(charts) == 2
    for chart in charts:
        assert chart.size["width"] > 300 and chart.size["height"] > 100
    browser.wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, "details table")))
