"""The operator's path through the admin in a real browser: log in, create an issuer, generate
its key (exported at once), mint a token that is shown exactly once, revoke it, open the key
rotation; and a token auditor who may look but not mint.

The full walk runs every step on what the earlier steps made; the tests after it start each
step from records made through the services, so that one broken page fails one test."""

import re
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import Group, User
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from keys import roles
from keys.models import IssuedToken, Issuer, KeyPair
from keys.services.actor import Actor
from keys.services.issuers import issuer_create
from keys.services.keypairs import keypair_generate
from keys.services.tokens import token_mint

PASSWORD = "correct horse battery staple"
THIRTY_DAYS = int(timedelta(days=30).total_seconds())


@pytest.fixture
def operator():
    return User.objects.create_superuser(
        username="operator", password=PASSWORD, email="operator@example.com"
    )


@pytest.fixture
def actor() -> Actor:
    return Actor(user=None, channel="cli", name="cli:browser-test")


@pytest.fixture
def issuer_with_key(actor):
    issuer = issuer_create(actor=actor, name="plant-a")
    keypair_generate(actor=actor, issuer=issuer, bits=2048)
    return issuer


def test_the_operator_path(browser, operator, etc_dir):
    browser.log_in("operator", PASSWORD)

    issuer = create_issuer(browser, "plant-a")
    key_pair = generate_key(browser, issuer, etc_dir)
    mint_and_check_shown_once(browser, issuer, etc_dir)
    token = IssuedToken.objects.get()
    assert token.key_pair == key_pair
    revoke(browser, token, "walked the operator path")
    # Revoked tokens are still accepted, but a rotation's count is of unrevoked ones.
    rotate(browser, issuer, etc_dir, stopped=0)


def test_a_minted_token_is_shown_once(browser, operator, issuer_with_key, etc_dir):
    browser.log_in("operator", PASSWORD)
    mint_and_check_shown_once(browser, issuer_with_key, etc_dir)


def test_revoking_says_neuronex_keeps_accepting_the_token(
    browser, operator, issuer_with_key, actor
):
    minted = token_mint(actor=actor, issuer=issuer_with_key, label="line 3 SCADA")
    browser.log_in("operator", PASSWORD)
    revoke(browser, minted.record, "laptop lost")


def test_rotation_confirmation_counts_the_tokens_it_stops(
    browser, operator, issuer_with_key, actor, etc_dir
):
    for label in ("line 1", "line 2"):
        token_mint(actor=actor, issuer=issuer_with_key, label=label)
    browser.log_in("operator", PASSWORD)
    rotate(browser, issuer_with_key, etc_dir, stopped=2)


def test_a_token_auditor_sees_tokens_but_cannot_mint(browser, role_groups, issuer_with_key, actor):
    minted = token_mint(actor=actor, issuer=issuer_with_key, label="line 3 SCADA")
    auditor = User.objects.create_user(username="auditor", password=PASSWORD, is_staff=True)
    auditor.groups.add(Group.objects.get(name=roles.AUDITORS))
    browser.log_in("auditor", PASSWORD)

    browser.open("admin:keys_issuedtoken_changelist")
    assert str(minted.record.jti) in browser.by_id("result_list").text
    assert not browser.has(By.ID, "mint-token")
    browser.open("admin:keys_issuer_change", issuer_with_key.pk)
    browser.by_id("content-main")
    for tool in ("mint-token", "generate-key", "rotate-key"):
        assert not browser.has(By.ID, tool), tool

    browser.open_path("/admin/keys/issuedtoken/mint/")
    assert "403 Forbidden" in browser.driver.page_source
    assert list(IssuedToken.objects.all()) == [minted.record]


# The steps ------------------------------------------------------------------------------------


def create_issuer(browser, name: str) -> Issuer:
    browser.open("admin:keys_issuer_add")
    browser.fill("id_name", name)
    Select(browser.by_id("id_iss_style")).select_by_value("filename")
    Select(browser.by_id("id_audience")).select_by_value("neuronex")
    browser.fill("id_default_ttl", "30 00:00:00")
    browser.fill("id_max_ttl", "365 00:00:00")
    browser.fill("id_description", "Line controllers of plant A")
    browser.click_and_load(browser.by_name("_save"))
    assert not browser.has(By.CSS_SELECTOR, ".errornote"), browser.body_text()
    return Issuer.objects.get(name=name)


def generate_key(browser, issuer: Issuer, etc_dir) -> KeyPair:
    browser.open("admin:keys_issuer_change", issuer.pk)
    browser.click_and_load(browser.by_id("generate-key"))
    Select(browser.by_name("bits")).select_by_value("2048")
    browser.click_and_load(browser.by_id("generate-submit"))
    key_pair = KeyPair.objects.get(issuer=issuer, status=KeyPair.Status.ACTIVE)
    browser.wait().until(
        lambda driver: key_pair.kid in driver.page_source,
        message=f"the page after generating does not show the active key {key_pair.kid}",
    )
    wait_for_key_file(browser, etc_dir / issuer.key_file_name, key_pair.public_pem)
    return key_pair


def mint_and_check_shown_once(browser, issuer: Issuer, etc_dir) -> str:
    browser.open("admin:keys_issuedtoken_changelist")
    browser.click_and_load(browser.by_id("mint-token"))
    Select(browser.by_id("id_issuer")).select_by_value(str(issuer.pk))
    browser.fill("id_label", "line 3 SCADA")
    choose_lifetime(browser, "30d")
    browser.click_and_load(browser.by_id("mint-submit"))

    token = shown_text(browser.by_id("minted-token"))
    assert token.count(".") == 2, f"not a JWT: {token!r}"
    public_pem = (etc_dir / issuer.key_file_name).read_text()
    claims = jwt.decode(token, public_pem, algorithms=["RS256"], audience="neuronex")
    assert claims["iss"] == issuer.iss
    assert claims["exp"] - claims["iat"] == THIRTY_DAYS
    record = IssuedToken.objects.get()
    assert (str(record.jti), record.label) == (claims["jti"], "line 3 SCADA")
    assert "Bearer " + token in shown_text(browser.by_id("authorization-header"))

    browser.refresh()  # headless Chromium sends the form again without asking
    assert token not in browser.driver.page_source
    assert re.search(r"already (been )?shown|shown already", browser.body_text(), re.IGNORECASE), (
        "the reloaded page does not say the token was shown already:\n" + browser.body_text()
    )
    assert IssuedToken.objects.count() == 1
    return token


def revoke(browser, token: IssuedToken, reason: str) -> None:
    browser.open("admin:keys_issuedtoken_changelist")
    checkbox = browser.find(By.CSS_SELECTOR, f'input[name="_selected_action"][value="{token.pk}"]')
    checkbox.click()
    Select(browser.by_name("action")).select_by_value("revoke_tokens")
    browser.click_and_load(browser.by_name("index"))
    reason_field = browser.by_name("reason")
    reason_field.clear()
    reason_field.send_keys(reason)
    browser.click_and_load(browser.by_id("revoke-confirm"))

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoke_reason == reason
    said = " ".join(browser.messages()).lower()
    assert "keeps accepting" in said and "until it expires" in said, browser.messages()


def rotate(browser, issuer: Issuer, etc_dir, *, stopped: int) -> None:
    old_key = KeyPair.objects.get(issuer=issuer, status=KeyPair.Status.ACTIVE)
    browser.open("admin:keys_issuer_change", issuer.pk)
    browser.click_and_load(browser.by_id("rotate-key"))
    sentence = browser.find(
        By.XPATH,
        "//*[contains(normalize-space(.), 'will stop accepting')]"
        "[not(*[contains(normalize-space(.), 'will stop accepting')])]",
    ).text
    assert re.search(rf"(?<!\d){stopped}(?!\d)", sentence), sentence
    assert KeyPair.objects.get(status=KeyPair.Status.ACTIVE) == old_key  # opening changes nothing

    browser.click_and_load(browser.by_id("rotate-confirm"))
    new_key = KeyPair.objects.get(issuer=issuer, status=KeyPair.Status.ACTIVE)
    assert new_key != old_key
    wait_for_key_file(browser, etc_dir / issuer.key_file_name, new_key.public_pem)


# Helpers --------------------------------------------------------------------------------------


def choose_lifetime(browser, value: str) -> None:
    """The lifetime presets: a select or radio buttons named "lifetime"."""
    first = browser.by_name("lifetime")
    if first.tag_name == "select":
        Select(first).select_by_value(value)
    else:
        browser.find(By.CSS_SELECTOR, f'input[name="lifetime"][value="{value}"]').click()


def shown_text(element) -> str:
    """What an element shows: its text, or the value of an input or textarea."""
    return (element.text or element.get_attribute("value") or "").strip()


def wait_for_key_file(browser, path, public_pem: str) -> None:
    def holds_key(_driver) -> bool:
        try:
            return path.read_text() == public_pem
        except FileNotFoundError:
            return False

    browser.wait().until(holds_key, message=f"{path} does not hold the active public key")
