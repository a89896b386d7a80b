"""Nothing secret leaks.

A Key administrator and an auditor go through the portal as they would on a working day, in
the admin and through the REST API: issuers; a generated and a passphrase-protected imported
key pair each way; exports to the export folder; tokens minted (one with an Idempotency-Key,
then replayed), verified and revoked; a rotation; API tokens; one private-key download. Every
logger is at DEBUG and the database logs its SQL with parameters meanwhile. Afterwards every
admin page and every API read is loaded by both roles, and by a superuser where both were
refused.

Then every log record (as the portal's formatters print it, with its arguments, extra
attributes and traceback), every response except the few that show a secret on purpose, the
export and cache folders and every row of every table are searched for the private keys (PEM,
DER, its lines, the private numbers), the passphrases and passwords, the tokens and their
signatures, the API token keys, and the encryption and secret keys. Each secret is first found
where it is shown on purpose, or in a planted copy, so that the search cannot pass for want of
looking.
"""

import base64
import functools
import html
import io
import json
import logging
import logging.config
import re
import secrets
import uuid
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote_plus

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote as admin_quote
from django.contrib.auth.models import Group, User
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client
from django.urls import NoReverseMatch, reverse
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework.test import APIClient

from keys import crypto, roles
from keys.models import AuditEvent, ExportTarget, IdempotentMint, IssuedToken, Issuer, KeyPair
from keys.services.tokens import token_hash
from tests.api_client import API
from tests.conftest import rsa_key

pytestmark = pytest.mark.django_db

TOKEN_IN_PAGE = re.compile(r'<code id="minted-token"[^>]*>([^<]+)</code>')
KEY_IN_PAGE = re.compile(r'<code id="api-token-key"[^>]*>([^<]+)</code>')
# Anything shorter could turn up in a page or a log line by chance.
MIN_SECRET_LENGTH = 16
# Bytes per line of a PEM body: 64 base64 characters.
PEM_LINE_BYTES = 48
# From the test key pool (tests/conftest.py), past the three keys the flow generates.
IMPORTED_KEYS = (5, 6)
NEW_ISSUER = {
    "iss_style": "filename",
    "audience": "neuronex",
    "default_ttl": "90 00:00:00",
    "max_ttl": "365 00:00:00",
}


# --- What is secret --------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    owner: str  # whose: one key pair, one token, one passphrase...
    form: str  # how it is written
    text: str = field(repr=False)
    # Appears as is where its owner is shown on purpose (a download, a mint's answer).
    shown: bool = False

    def __str__(self) -> str:
        return f"{self.owner} ({self.form})"


def readings(text: str) -> set[str]:
    """The text as written, and as it reads with the escapes of HTML, JSON and URLs undone and
    without line breaks: a PEM block in a JSON string keeps its base64, not its line breaks."""
    unescaped = html.unescape(text)
    json_breaks = unescaped.replace("\\r", "\r").replace("\\n", "\n")
    return {text, unescaped, json_breaks, unquote_plus(text), re.sub(r"\s+", "", json_breaks)}


# The characters of nearly every secret: base64, base64url, hex, decimal, a JWT's dots.
RUN = re.compile(rf"[A-Za-z0-9+/=_.\-]{{{MIN_SECRET_LENGTH},}}")


class Secrets:
    def __init__(self) -> None:
        self.all: list[Secret] = []

    def add(self, owner: str, form: str, text: str, *, shown: bool = False) -> None:
        assert len(text) >= MIN_SECRET_LENGTH, f"{owner} ({form}) is too short to search for"
        self.all.append(Secret(owner, form, text, shown))

    def of(self, owner: str) -> list[Secret]:
        return [secret for secret in self.all if secret.owner == owner]

    def found_in(self, text: str, among: Iterable[Secret] | None = None) -> list[Secret]:
        views = readings(text)
        return [
            secret
            for secret in (self.all if among is None else among)
            if any(secret.text in view for view in views)
        ]

    def found_anywhere(self, texts: Iterable[str]) -> list[Secret]:
        """The secrets in any of ``texts``: as ``found_in`` on each, much faster on many
        megabytes of repetitive logs and pages.

        A secret made of RUN's characters only lies within one run of them, so the distinct
        runs of every reading are searched instead of the texts; the others (PEM blocks) are
        searched for in every reading."""
        runs: set[str] = set()
        whole = [secret for secret in self.all if not RUN.fullmatch(secret.text)]
        found = set()
        for text in texts:
            for view in readings(text):
                runs.update(RUN.findall(view))
                found.update(secret for secret in whole if secret.text in view)
        distinct = "\x00".join(runs)
        found.update(secret for secret in self.all if secret.text in distinct)
        return [secret for secret in self.all if secret in found]

    def leaks(self, places: list["Place"]) -> list[tuple["Place", Secret]]:
        """Each (place, secret) where the place holds a secret it may not show."""
        found = []
        for place in places:
            if place.shows:
                found += [
                    (place, s) for s in self.found_in(place.text) if s.owner not in place.shows
                ]
        plain = [place for place in places if not place.shows]
        candidates = self.found_anywhere(place.text for place in plain)
        if candidates:
            found += [(place, s) for place in plain for s in self.found_in(place.text, candidates)]
        return found


def big_endian(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def add_private_key(known: Secrets, owner: str, key: rsa.RSAPrivateKey) -> None:
    pem = crypto.private_pem(key)  # PKCS#8, as the download writes it
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pkcs1 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    numbers = key.private_numbers()
    known.add(owner, "PKCS#8 PEM", pem, shown=True)
    known.add(owner, "PKCS#8 DER, base64", base64.b64encode(der).decode(), shown=True)
    # The lines before d hold the modulus too, which every public key file shows on purpose.
    private_from = der.index(big_endian(numbers.d))
    for number, line in enumerate(pem.splitlines()[1:-1]):
        if len(line) == 64 and number * PEM_LINE_BYTES >= private_from:
            known.add(owner, f"PKCS#8 PEM, line {number + 2}", line, shown=True)
    known.add(owner, "PKCS#1 DER, base64 (openssl genrsa)", base64.b64encode(pkcs1).decode())
    for name, value in (("d", numbers.d), ("p", numbers.p), ("q", numbers.q)):
        known.add(owner, f"{name}, decimal", str(value))
        known.add(owner, f"{name}, hex", f"{value:x}")
        known.add(owner, f"{name}, HEX", f"{value:X}")
        jwk = base64.urlsafe_b64encode(big_endian(value)).rstrip(b"=").decode()
        known.add(owner, f"{name}, base64url (JWK)", jwk)


def add_token(known: Secrets, owner: str, token: str) -> None:
    known.add(owner, "token", token, shown=True)
    known.add(owner, "signature", token.rsplit(".", 1)[1], shown=True)


def add_api_key(known: Secrets, owner: str, key: str) -> None:
    known.add(owner, "key", key, shown=True)
    # knox shows the first characters (token_key) in lists and the audit log, by design.
    known.add(owner, "key after its token_key", key[CONSTANTS.TOKEN_KEY_LENGTH :], shown=True)


def key_owner(key_pair: KeyPair) -> str:
    return f"private key {key_pair.kid[:8]} of {key_pair.issuer.name} ({key_pair.origin})"


def passphrase() -> str:
    return secrets.token_urlsafe(18)


def encrypted_pkcs8(key: rsa.RSAPrivateKey, words: str) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(words.encode()),
    )


# --- Where secrets could show up -------------------------------------------------------------


@dataclass
class Place:
    where: str
    text: str = field(repr=False)
    shows: tuple[str, ...] = ()  # owners whose secrets it shows on purpose


def unsigned(value: str) -> str | None:
    """What a session's data holds: Django signs it as compressed base64, which a search would
    see through no more than through encryption."""
    if ":" not in value or " " in value:
        return None
    try:
        data = signing.loads(value, salt=session_salt(), serializer=signing.JSONSerializer)
    except Exception:  # not signed data, or not by the sessions
        return None
    return json.dumps(data, default=str)


@functools.cache
def session_salt() -> str:
    return SessionStore().key_salt


def strings_in(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def response_text(response) -> str:
    body = response.getvalue()
    parts = [
        f"HTTP {response.status_code}",
        *(f"{name}: {value}" for name, value in response.items()),
        response.cookies.output(),
        body.decode("utf-8", "replace"),
    ]
    if body.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(body)) as bundle:
            parts += [bundle.read(name).decode("utf-8", "replace") for name in bundle.namelist()]
    cookie = response.cookies.get("messages")
    if cookie is not None and cookie.value:
        # Signed and compressed: read as the next page would.
        messages = CookieStorage(response.wsgi_request)._decode(cookie.value) or []
        parts += [str(message) for message in messages]
    return "\n".join(parts)


def file_text(data: bytes) -> str:
    """A file as text; a cache entry (a pickled expiry, then a zlib-compressed pickle)
    uncompressed, since the pickle holds its strings as they are."""
    text = data.decode("latin-1")
    for start in range(min(len(data), 64)):
        try:
            return text + "\n" + zlib.decompress(data[start:]).decode("latin-1")
        except zlib.error:
            continue
    return text


def folder_places(label: str, folder: Path) -> list[Place]:
    return [
        Place(f"{label} file {path.relative_to(folder)}", file_text(path.read_bytes()))
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def cell_text(cell) -> str:
    if isinstance(cell, bytes | memoryview):
        return bytes(cell).decode("latin-1")
    if isinstance(cell, dict | list):
        return json.dumps(cell)
    text = str(cell)
    return f"{text} {unsigned(text) or ''}" if isinstance(cell, str) else text


def database_places() -> list[Place]:
    """Every row of every table, as text; signed values (session data) also as what they say."""
    places = []
    connection = connections["default"]
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {name}")  # noqa: S608 (a name the database gave)
            rows = cursor.fetchall()
            text = "\n".join(" | ".join(cell_text(cell) for cell in row) for row in rows)
            places.append(Place(f"database table {table} ({len(rows)} rows)", text))
    return places


# --- Logging at DEBUG, everywhere ------------------------------------------------------------

STANDARD_RECORD_ATTRIBUTES = {*vars(logging.makeLogRecord({})), "message", "asctime"}


class LogCapture(logging.Handler):
    """Every record, rendered when it is emitted (its arguments may change later) in every way
    it can be read: by each of the portal's formatters (traceback included), and its message
    template, arguments and extra attributes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.places: list[Place] = []
        self.failures: list[str] = []
        configured = settings.LOGGING
        configurator = logging.config.DictConfigurator(configured)
        self.portal_filters = [
            configurator.configure_filter(dict(spec))
            for spec in configured.get("filters", {}).values()
        ]
        self.formatters = [
            configurator.configure_formatter(dict(spec))
            for spec in configured.get("formatters", {}).values()
        ] or [logging.Formatter()]

    def emit(self, record: logging.LogRecord) -> None:
        try:
            for portal_filter in self.portal_filters:
                portal_filter.filter(record)
            parts = [formatter.format(record) for formatter in self.formatters]
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            extras = [
                value
                for name, value in vars(record).items()
                if name not in STANDARD_RECORD_ATTRIBUTES
            ]
            # What the lines above do not already show (a SQL record's statement and
            # parameters, as a rule, are there): an argument or extra attribute as str() and
            # repr() may show it.
            for value in [record.msg, *args, *extras]:
                for rendered in {str(value), repr(value)}:
                    if not any(rendered in part for part in parts):
                        parts.append(rendered)
            parts += filter(None, map(unsigned, strings_in([args, extras])))
        except Exception as exc:  # the test must see a record it could not read
            self.failures.append(f"{record.name}: {exc!r}")
            return
        summary = (record.getMessage().splitlines() or [""])[0][:160]
        where = f"log record #{len(self.places) + 1} {record.name} {record.levelname}: {summary}"
        self.places.append(Place(where, "\n".join(parts)))


@contextmanager
def everything_logged() -> Iterator[LogCapture]:
    """Every logger at DEBUG, none disabled, and every record caught, including those of
    loggers that do not pass them on to the root; the database logs each query with its
    parameters, as with DEBUG on.

    The capture is the only handler meanwhile: the console's and pytest's would format each
    record again, and print megabytes of DEBUG lines with a failure."""
    capture = LogCapture()
    manager = logging.root.manager
    loggers = [logging.root]
    loggers += [
        logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled, logger.handlers[:]) for logger in loggers]
    disabled_below = manager.disable
    logging.disable(logging.NOTSET)
    debug_cursors = {alias: connections[alias].force_debug_cursor for alias in connections}
    for logger, _, _, handlers in saved:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        for handler in handlers:
            logger.removeHandler(handler)
        if logger is logging.root or not logger.propagate:
            logger.addHandler(capture)
    for alias in debug_cursors:
        connections[alias].force_debug_cursor = True
    try:
        yield capture
    finally:
        for alias, forced in debug_cursors.items():
            connections[alias].force_debug_cursor = forced
        for logger, level, disabled, handlers in saved:
            logger.removeHandler(capture)
            for handler in handlers:
                logger.addHandler(handler)
            logger.setLevel(level)
            logger.disabled = disabled
        logging.disable(disabled_below)


# --- People at the portal --------------------------------------------------------------------


class Visitor:
    """One client of the portal, each answer kept for the search. Commit callbacks (the
    automatic export) run after each request, as they would after its transaction."""

    def __init__(self, name: str, client, places: list[Place], on_commit) -> None:
        self.name = name
        self.client = client
        self.places = places
        self.on_commit = on_commit

    def request(self, method: str, url: str, data=None, *, shows=(), expect=None, **extra):
        with self.on_commit(execute=True):
            response = getattr(self.client, method)(url, data, **extra)
        where = f"{self.name}: {method.upper()} {url} -> {response.status_code}"
        self.places.append(Place(where, response_text(response), tuple(shows)))
        if expect is not None:
            assert response.status_code == expect, f"{where}\n{response.content[:3000]!r}"
        return response

    def get(self, url: str, data=None, **options):
        return self.follow(self.request("get", url, data, **options))

    def post(self, url: str, data=None, **options):
        return self.follow(self.request("post", url, data, **options))

    def follow(self, response):
        """Redirects are followed one by one, so that each page on the way is kept."""
        while response.status_code in (301, 302, 303) and response["Location"].startswith("/"):
            response = self.request("get", response["Location"])
        return response


class Person(Visitor):
    """Someone in the admin, logged in with their password."""

    def log_in(self, username: str, password: str) -> None:
        data = {"username": username, "password": password, "next": reverse("admin:index")}
        self.post(reverse("admin:login"), data)
        assert "_auth_user_id" in self.client.session, f"{username} could not log in"


class Script(Visitor):
    """A script on the REST API with an API token."""

    def __init__(self, name: str, key: str, places: list[Place], on_commit) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        super().__init__(name, client, places, on_commit)

    def post(self, url: str, data=None, **options):
        return super().post(f"{API}{url}", data, format="json", **options)

    def get(self, url: str, data=None, **options):
        return super().get(url if url.startswith("/.well") else f"{API}{url}", data, **options)


def staff_user(username: str, password: str, role: str | None, *, superuser=False) -> User:
    user = User.objects.create_user(
        username=username, password=password, is_staff=True, is_superuser=superuser
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


def issuer_url(view: str, issuer: Issuer) -> str:
    return reverse(f"admin:keys_issuer_{view}", args=[issuer.pk])


# --- The flow --------------------------------------------------------------------------------


class Flow:
    def __init__(self, places: list[Place], known: Secrets, on_commit) -> None:
        self.places = places
        self.known = known
        self.on_commit = on_commit
        self.imported: dict[str, rsa.RSAPrivateKey] = {}
        self.passwords = {name: passphrase() for name in ("keyadmin", "auditor", "root")}
        for name, password in self.passwords.items():
            known.add(f"password of {name}", "password", password)
        staff_user("keyadmin", self.passwords["keyadmin"], roles.KEY_ADMINS)
        staff_user("auditor", self.passwords["auditor"], roles.AUDITORS)
        staff_user("root", self.passwords["root"], None, superuser=True)
        self.people = {name: self.person(name) for name in self.passwords}
        self.scripts: dict[str, Script] = {}

    def person(self, name: str) -> Person:
        return Person(f"admin as {name}", Client(), self.places, self.on_commit)

    def secret_words(self, owner: str) -> str:
        words = passphrase()
        self.known.add(owner, "passphrase", words)
        return words

    def run(self) -> None:
        self.log_in()
        self.admin_issuers_and_keys()
        self.admin_exports()
        self.admin_tokens()
        self.admin_private_key_download()
        self.api_tokens_in_the_admin()
        self.api_issuers_and_keys()
        self.api_tokens()

    def log_in(self) -> None:
        login = reverse("admin:login")
        # The second failure stays on record (axes): no later login of that name resets it.
        for username in ("keyadmin", "keyadmn"):
            wrong = self.secret_words(f"a mistyped password, as {username}")
            failed = self.people["keyadmin"].post(login, {"username": username, "password": wrong})
            assert "_auth_user_id" not in failed.wsgi_request.session
        for name, person in self.people.items():
            person.log_in(name, self.passwords[name])

    def admin_issuers_and_keys(self) -> None:
        keyadmin = self.people["keyadmin"]
        add = reverse("admin:keys_issuer_add")
        for name in ("plant-a", "plant-b"):
            keyadmin.get(add, expect=200)
            keyadmin.request("post", add, {"name": name, **NEW_ISSUER}, expect=302)
        plant_a, plant_b = Issuer.objects.get(name="plant-a"), Issuer.objects.get(name="plant-b")

        keyadmin.get(issuer_url("generate", plant_a), expect=200)
        keyadmin.request("post", issuer_url("generate", plant_a), {"bits": "2048"}, expect=302)

        key = self.imported["plant-b"] = rsa_key(2048, IMPORTED_KEYS[0])
        right = self.secret_words("import passphrase of plant-b (admin)")
        wrong = self.secret_words("a wrong import passphrase for plant-b (admin)")
        pem = encrypted_pkcs8(key, right)
        keyadmin.get(issuer_url("import", plant_b), expect=200)
        refused = keyadmin.request(
            "post",
            issuer_url("import", plant_b),
            {"file": SimpleUploadedFile("plant-b.key", pem), "passphrase": wrong},
            expect=200,
        )
        assert "passphrase is wrong" in refused.content.decode()
        keyadmin.request(
            "post",
            issuer_url("import", plant_b),
            {"file": SimpleUploadedFile("plant-b.key", pem), "passphrase": right},
            expect=302,
        )
        assert KeyPair.objects.get(issuer=plant_b).origin == KeyPair.Origin.IMPORTED

    def admin_exports(self) -> None:
        keyadmin = self.people["keyadmin"]
        plant_a = Issuer.objects.get(name="plant-a")
        keyadmin.post(issuer_url("export", plant_a), expect=302)
        default = ExportTarget.objects.get(name="default")
        targets = reverse("admin:keys_exporttarget_changelist")
        for action in ("export_now", "check_now"):
            keyadmin.post(targets, {"action": action, "_selected_action": [default.pk]})

    def admin_tokens(self) -> None:
        keyadmin = self.people["keyadmin"]
        mint = reverse("admin:keys_issuedtoken_mint")
        tokens = {}
        for name in ("plant-a", "plant-b"):
            owner = f"token minted in the admin for {name}"
            form = keyadmin.get(mint, expect=200).context["form"]
            data = {
                "nonce": form.initial["nonce"],
                "issuer": Issuer.objects.get(name=name).pk,
                "label": f"line 3 SCADA at {name}",
                "lifetime": "30d",
            }
            shown = keyadmin.post(mint, data, shows=[owner], expect=200)
            [token] = TOKEN_IN_PAGE.findall(shown.content.decode())
            add_token(self.known, owner, token)
            tokens[name] = token
            again = keyadmin.post(mint, data, expect=200)  # the result page reloaded
            assert "already shown once" in again.content.decode()

        record = IssuedToken.objects.get(token_sha256=token_hash(tokens["plant-b"]))
        changelist = reverse("admin:keys_issuedtoken_changelist")
        chosen = {"action": "revoke_tokens", "_selected_action": [record.pk]}
        keyadmin.post(changelist, chosen, expect=200)  # the confirmation
        keyadmin.post(changelist, {**chosen, "post": "yes", "reason": "line 3 retired"})
        record.refresh_from_db()
        assert record.revoked_at is not None

    def admin_private_key_download(self) -> None:
        keyadmin = self.people["keyadmin"]
        plant_a = Issuer.objects.get(name="plant-a")
        key_pair = KeyPair.objects.get(issuer=plant_a, status=KeyPair.Status.ACTIVE)
        keyadmin.get(issuer_url("private_key", plant_a), expect=200)
        download = keyadmin.post(
            issuer_url("private_key", plant_a),
            {"reason": "moving plant-a to an HSM"},
            shows=[key_owner(key_pair)],
            expect=200,
        )
        assert download["Content-Type"] == "application/x-pem-file"

    def api_tokens_in_the_admin(self) -> None:
        create = reverse("admin:knox_authtoken_add")
        for name in ("keyadmin", "auditor"):
            person, owner = self.people[name], f"API token of {name}"
            form = person.get(create, expect=200).context["form"]
            data = {"nonce": form.initial["nonce"], "user": form.fields["user"].initial}
            shown = person.post(create, {**data, "lifetime": "1d"}, shows=[owner], expect=200)
            [key] = KEY_IN_PAGE.findall(shown.content.decode())
            add_api_key(self.known, owner, key)
            self.scripts[name] = Script(f"API as {name}", key, self.places, self.on_commit)

    def api_issuers_and_keys(self) -> None:
        api = self.scripts["keyadmin"]
        for name in ("plant-c", "plant-d"):
            api.post("/issuers/", {"name": name}, expect=201)
        api.post("/issuers/plant-c/keys/", {"bits": 2048}, expect=201)

        key = self.imported["plant-d"] = rsa_key(2048, IMPORTED_KEYS[1])
        right = self.secret_words("import passphrase of plant-d (API)")
        wrong = self.secret_words("a wrong import passphrase for plant-d (API)")
        pem = encrypted_pkcs8(key, right).decode()
        url = "/issuers/plant-d/keys/import/"
        api.post(url, {"pem": pem, "passphrase": wrong}, expect=400)
        api.post(url, {"pem": pem, "passphrase": right}, expect=201)
        api.post("/targets/default/export/", {}, expect=200)

    def api_tokens(self) -> None:
        api, auditor = self.scripts["keyadmin"], self.scripts["auditor"]
        plain_owner = "token minted through the API for plant-c"
        plain = api.post(
            "/tokens/",
            {"issuer": "plant-c", "label": "MES line 3", "ttl": "30d"},
            shows=[plain_owner],
            expect=201,
        ).json()
        add_token(self.known, plain_owner, plain["token"])

        kept_owner = "token minted through the API for plant-d, with an Idempotency-Key"
        body = {"issuer": "plant-d", "label": "dashboard", "ttl": "7d"}
        retry = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
        kept = api.post("/tokens/", body, shows=[kept_owner], expect=201, **retry)
        replayed = api.post("/tokens/", body, shows=[kept_owner], expect=201, **retry)
        assert replayed["Idempotent-Replayed"] == "true"
        assert replayed.json()["token"] == kept.json()["token"]
        add_token(self.known, kept_owner, kept.json()["token"])

        api.post("/tokens/verify/", {"token": plain["token"]}, expect=200)
        api.post("/tokens/verify/", {"token": plain["token"], "target": "default"}, expect=200)
        auditor.post("/tokens/verify/", {"token": kept.json()["token"]}, expect=200)
        api.post(f"/tokens/{plain['jti']}/revoke/", {"reason": "MES replaced"}, expect=200)
        api.get("/tokens/", expect=200)
        api.post("/issuers/plant-c/rotate/", {}, expect=200)
        api.post("/targets/default/export/", {}, expect=200)


# --- Every page, afterwards ------------------------------------------------------------------


def reversed_url(name: str, *args, **kwargs) -> list[str]:
    try:
        return [reverse(name, args=args or None, kwargs=kwargs or None)]
    except NoReverseMatch:
        return []


def admin_pages() -> list[str]:
    """Every changelist, add, change and history page of every model in the admin, and the
    portal's own pages."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += reversed_url(f"{prefix}_changelist") + reversed_url(f"{prefix}_add")
        # An audit event is never changed: its history page holds nothing its change page
        # does not, and the events are most of the rows.
        views = ["change"] if model is AuditEvent else ["change", "history"]
        for pk in model._default_manager.order_by("pk").values_list("pk", flat=True):
            urls += [
                url for view in views for url in reversed_url(f"{prefix}_{view}", admin_quote(pk))
            ]
    tokens = reverse("admin:keys_issuedtoken_changelist")
    urls += [
        f"{tokens}?{query}"
        for query in (
            "status=active",
            "status=expired",
            "status=revoked",
            "status=still_accepted",
            "expires_within=7d",
            "expires_within=30d",
            "status=active&signing_key=retired",
            "channel=api",
            "q=line",
        )
    ]
    urls += [reverse("admin:keys_issuedtoken_mint"), reverse("admin:keys_issuedtoken_report")]
    for model in ("issuedtoken", "auditevent"):
        for file_format in ("csv", "json"):
            urls += reversed_url(f"admin:keys_{model}_export", file_format=file_format)
    urls += reversed_url("admin:keys_issuer_public_keys_zip")
    for issuer in Issuer.objects.order_by("pk"):
        urls += [reverse("admin:keys_issuedtoken_mint") + f"?issuer={issuer.pk}"]
        for view in ("public_pem", "generate", "import", "rotate", "private_key", "export"):
            urls += reversed_url(f"admin:keys_issuer_{view}", issuer.pk)
    for token_key in AuthToken.objects.values_list("token_key", flat=True):
        urls += reversed_url("admin:knox_authtoken_revoke", token_key)
    return urls


def api_reads() -> list[str]:
    urls = [
        "/issuers/",
        "/targets/",
        "/targets/default/check/",
        "/tokens/?limit=1000",
        "/tokens/?status=active",
        "/tokens/?status=revoked",
        "/tokens/?expiring_within=365d",
        "/tokens/export/?format=csv",
        "/tokens/export/?format=json",
        "/reports/tokens/",
        "/reports/tokens/?format=csv",
        "/audit-events/?limit=1000",
        "/audit-events/export/?format=csv",
        "/audit-events/export/?format=json",
        "/schema/",
        "/docs/",
        "/.well-known/jwks.json",
    ]
    for name in Issuer.objects.order_by("name").values_list("name", flat=True):
        path = f"/issuers/{quote(name)}"
        urls += [f"{path}/", f"{path}/public.pem", f"{path}/keys/", f"/tokens/?issuer={name}"]
    urls += [f"/tokens/{jti}/" for jti in IssuedToken.objects.values_list("jti", flat=True)]
    return urls


def crawl(flow: Flow) -> None:
    pages = admin_pages()
    refused = set(pages)
    for name in ("keyadmin", "auditor"):
        for url in pages:
            if flow.people[name].get(url).status_code != 403:
                refused.discard(url)
    # Elsewhere a superuser sees what a Key administrator sees, except all users' API tokens.
    api_tokens = reverse("admin:knox_authtoken_changelist")
    for url in pages:
        if url in refused or url.startswith(api_tokens):
            flow.people["root"].get(url)
    reads = api_reads()
    for script in flow.scripts.values():
        for url in reads:
            script.get(url)
    Visitor("anonymous", Client(), flow.places, flow.on_commit).get("/healthz", expect=200)


# --- The test --------------------------------------------------------------------------------


def planted_copies(known: Secrets) -> list[tuple[Secret, str]]:
    """Each secret as a page, a JSON answer, a query string and a log line would carry it."""
    copies = []
    for secret in known.all:
        copies += [
            (secret, f"<pre>{html.escape(secret.text)}</pre>"),
            (secret, json.dumps({"value": secret.text})),
            (secret, f"/path?value={quote(secret.text)}"),
        ]
    return copies


def leak_report(leaks: list[tuple[Place, Secret]]) -> str:
    by_place: dict[str, list[str]] = {}
    for place, secret in leaks:
        by_place.setdefault(place.where, []).append(str(secret))
    lines = [f"{where}\n    holds {', '.join(held)}" for where, held in by_place.items()]
    shown = lines[:40]
    more = f"\n... and {len(lines) - len(shown)} more places" if len(lines) > len(shown) else ""
    return (
        f"{len(leaks)} secret(s) found in {len(lines)} place(s) where none may be:\n"
        + "\n".join(shown)
        + more
    )


def test_no_secret_leaks(settings, etc_dir, django_capture_on_commit_callbacks):
    # The default hasher takes a good part of a second per login; what is stored is a hash
    # either way.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    known = Secrets()
    places: list[Place] = []

    with everything_logged() as log:
        flow = Flow(places, known, django_capture_on_commit_callbacks)
        flow.run()
        crawl(flow)

    known.add("the encryption key", "PORTAL_ENCRYPTION_KEYS", settings.PORTAL_ENCRYPTION_KEYS[0])
    known.add("Django's secret key", "SECRET_KEY", settings.SECRET_KEY)
    key_pairs = list(KeyPair.objects.select_related("issuer").order_by("pk"))
    assert len(key_pairs) == 5  # plant-a, plant-b, plant-c (and its rotated-out key), plant-d
    for key_pair in key_pairs:
        private_key = crypto.decrypt_private_key(key_pair.private_key_encrypted)
        if key_pair.issuer.name in flow.imported:
            expected = flow.imported[key_pair.issuer.name].private_numbers()
            assert private_key.private_numbers() == expected
        add_private_key(known, key_owner(key_pair), private_key)

    # The search finds every secret in the forms in which it would leak...
    for secret, copy in planted_copies(known):
        found = [known.found_in(copy), known.found_anywhere([copy])]
        assert all(secret in each for each in found), f"the search misses {secret} in {copy}"
    with everything_logged() as planted:
        canary = logging.getLogger("keys.leak_canary")
        for number, secret in enumerate(known.all):
            match number % 3:
                case 0:
                    canary.debug("planted %s", secret.text)
                case 1:
                    canary.info("planted", extra={"planted": secret.text})
                case _:
                    try:
                        raise ValueError(secret.text)
                    except ValueError:
                        canary.exception("planted")
    planted_found = known.found_anywhere(place.text for place in planted.places)
    assert planted_found == known.all, "the log capture misses a planted secret"

    # ...and where it is shown on purpose, which is checked as the rest except for that owner.
    for place in places:
        for owner in place.shows:
            expected = [secret for secret in known.of(owner) if secret.shown]
            assert expected, f"{place.where} should show {owner}, of which nothing is known"
            missing = set(expected) - set(known.found_in(place.text))
            assert not missing, f"{place.where} should show, but the search misses: {missing}"

    # The capture holds what an operator debugging at DEBUG would read, SQL parameters included.
    assert not log.failures, log.failures
    logged = "\n".join(place.text for place in log.places)
    for key_pair in key_pairs:
        assert key_pair.private_key_encrypted in logged, "the SQL parameters were not logged"
    assert "Bad Request: /api/v1/issuers/plant-d/keys/import/" in logged

    stored = database_places()
    dump = "\n".join(place.text for place in stored)
    for key_pair in key_pairs:
        assert key_pair.private_key_encrypted in dump
    for token in IssuedToken.objects.all():
        assert token.token_sha256 in dump
    for kept in IdempotentMint.objects.all():
        assert kept.token_encrypted in dump
    for secret in known.all:
        if secret.form == "key":
            assert hash_token(secret.text) in dump
    assert "keys.mint_nonces" in dump  # the sessions were read through their signature
    assert "keyadmn" in dump  # the failed login that stays on record

    exported = folder_places("export folder", etc_dir)
    for key_pair in key_pairs:
        if key_pair.status == KeyPair.Status.ACTIVE:
            assert any(key_pair.public_pem in place.text for place in exported)
    cached = folder_places("cache folder", Path(settings.CACHES["default"]["LOCATION"]))

    leaks = known.leaks(places + log.places + stored + exported + cached)
    if leaks:  # not a bare assert, whose explanation would print every place's whole text
        pytest.fail(leak_report(leaks), pytrace=False)
