"""Real threads against the real database: mints, rotations and issuer names under contention.

Each thread has its own database connection (Django's connections are per thread) and closes it
when done, so the transactional test's flush afterwards is not blocked by an idle connection.
On SQLite the test database is a file (see portal.settings) in WAL mode with IMMEDIATE
transactions, so the threads share it and queue for its one write lock; on PostgreSQL the row
and advisory locks of the services do the ordering.
"""

import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import User
from django.db import connection

from keys.errors import InvalidInput
from keys.models import AuditEvent, IssuedToken, Issuer, KeyPair
from keys.services.actor import Actor
from keys.services.audit import audit_verify
from keys.services.idempotency import token_mint_once
from keys.services.issuers import issuer_create
from keys.services.keypairs import keypair_rotate
from keys.services.tokens import token_hash, token_mint

pytestmark = pytest.mark.django_db(transaction=True)

JOIN_TIMEOUT = 60  # seconds; far above what a passing test needs, so a deadlock fails, not hangs


def run_together(*calls: Callable[[], Any]) -> list[tuple[Any, BaseException | None]]:
    """Run each call in its own thread, released together by a barrier; return (result, error)
    per call, in order. Every thread closes its database connection when it ends."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[Any, BaseException | None]] = [(None, None)] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            outcomes[index] = (call(), None)
        except BaseException as exc:  # reported by the test, with its traceback
            outcomes[index] = (None, exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, call), name=f"worker-{index}", daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    hung = [thread.name for thread in threads if thread.is_alive()]
    assert not hung, f"threads still running after {JOIN_TIMEOUT}s (deadlock?): {hung}"
    return outcomes


def results_or_fail(outcomes: list[tuple[Any, BaseException | None]]) -> list[Any]:
    errors = [error for _, error in outcomes if error is not None]
    if errors:
        details = "\n".join(
            "".join(traceback.format_exception(type(error), error, error.__traceback__))
            for error in errors
        )
        pytest.fail(f"{len(errors)} of {len(outcomes)} threads failed:\n{details}")
    return [result for result, _ in outcomes]


def assert_chain_intact() -> list[AuditEvent]:
    """The chain verifies and its seq runs 1..N without gaps; returns the events in order."""
    checked, broken = audit_verify()
    assert broken is None, f"audit chain broken at #{broken.seq}: {broken.problem}"
    events = list(AuditEvent.objects.order_by("seq"))
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert checked == len(events)
    return events


def assert_one_mint_event_per_token(events: list[AuditEvent], jtis: set[str]) -> None:
    mints = Counter(event.object_id for event in events if event.action == "token.mint")
    assert set(mints) == jtis
    assert set(mints.values()) == {1}


def test_parallel_mints_for_one_issuer_keep_the_chain(issuer, key_pair, cli_actor):
    threads, per_thread = 8, 10

    def mint_batch(index: int) -> list:
        return [
            token_mint(actor=cli_actor, issuer=issuer, label=f"thread {index} token {n}")
            for n in range(per_thread)
        ]

    batches = results_or_fail(
        run_together(*(lambda index=index: mint_batch(index) for index in range(threads)))
    )
    minted = [token for batch in batches for token in batch]
    jtis = {str(token.record.jti) for token in minted}
    assert len(minted) == len(jtis) == threads * per_thread

    records = {str(record.jti): record for record in IssuedToken.objects.filter(issuer=issuer)}
    assert set(records) == jtis
    for token in minted:
        record = records[str(token.record.jti)]
        assert record.key_pair_id == key_pair.pk
        assert record.token_sha256 == token_hash(token.token)
    claims = jwt.decode(
        minted[-1].token, key_pair.public_pem, algorithms=["RS256"], audience=issuer.audience
    )
    assert claims["jti"] == str(minted[-1].record.jti)

    events = assert_chain_intact()
    assert_one_mint_event_per_token(events, jtis)
    # issuer.create, key.generate and its auto-export came first, then exactly the mints.
    assert [event.action for event in events[:3]] == ["issuer.create", "key.generate", "export.run"]
    assert len(events) == 3 + threads * per_thread


def test_mints_racing_rotations_sign_with_the_key_they_record(issuer, key_pair, cli_actor):
    minters, rotations, min_mints = 4, 5, 3
    mint_window = 6.0  # seconds the minters keep going while the rotations have not finished
    rotating = threading.Event()
    rotating.set()

    def mint_while_rotating(index: int) -> list:
        # Keep minting until every rotation is done, so that each one meets mints in flight.
        minted = []
        give_up = time.monotonic() + mint_window
        while len(minted) < min_mints or (rotating.is_set() and time.monotonic() < give_up):
            minted.append(
                token_mint(actor=cli_actor, issuer=issuer, label=f"minter {index} #{len(minted)}")
            )
            time.sleep(0.001)
        return minted

    def rotate() -> tuple[list[KeyPair], float]:
        started = time.monotonic()
        try:
            new_pairs = []
            for _ in range(rotations):
                time.sleep(0.02)  # let mints get in between rotations
                new_pairs.append(keypair_rotate(actor=cli_actor, issuer=issuer))
            return new_pairs, time.monotonic() - started
        finally:
            rotating.clear()

    *batches, (new_pairs, rotating_for) = results_or_fail(
        run_together(
            *(lambda index=index: mint_while_rotating(index) for index in range(minters)),
            rotate,
        )
    )
    # A rotation must not wait for the mints to stop: a steady stream of mints may not starve it.
    assert rotating_for < mint_window, f"{rotations} rotations took {rotating_for:.1f}s"
    minted = [token for batch in batches for token in batch]
    jtis = {str(token.record.jti) for token in minted}
    assert len(jtis) == len(minted)

    pairs = {pair.pk: pair for pair in KeyPair.objects.filter(issuer=issuer)}
    assert len(pairs) == 1 + rotations
    assert {key_pair.pk, *(pair.pk for pair in new_pairs)} == set(pairs)
    active = [pair for pair in pairs.values() if pair.status == KeyPair.Status.ACTIVE]
    assert [pair.pk for pair in active] == [new_pairs[-1].pk]
    assert KeyPair.objects.filter(status=KeyPair.Status.ACTIVE).count() == 1

    records = {str(record.jti): record for record in IssuedToken.objects.filter(issuer=issuer)}
    assert set(records) == jtis
    for token in minted:
        record = records[str(token.record.jti)]
        assert record.token_sha256 == token_hash(token.token)
        # Signed by exactly one of the issuer's keys: the one recorded on the token.
        verifying = []
        for pair in pairs.values():
            try:
                jwt.decode(
                    token.token, pair.public_pem, algorithms=["RS256"], audience=issuer.audience
                )
            except jwt.InvalidSignatureError:
                continue
            verifying.append(pair.pk)
        assert verifying == [record.key_pair_id], f"token {record.jti}"
    used = {records[jti].key_pair_id for jti in jtis}
    assert len(used) > 1, "no mint came after a rotation: the race was not exercised"

    events = assert_chain_intact()
    assert_one_mint_event_per_token(events, jtis)
    assert Counter(event.action for event in events)["key.rotate"] == rotations
    # In chain order, no mint signs with a key before its activation or after its retirement.
    kids = {pair.kid: pair for pair in pairs.values()}
    activated = {key_pair.kid: 0}
    retired: dict[str, int] = {}
    for event in events:
        if event.action == "key.rotate":
            activated[event.details["kid"]] = event.seq
            retired[event.details["replaced_kid"]] = event.seq
    for event in events:
        if event.action == "token.mint":
            kid = event.details["kid"]
            assert kid in kids
            assert activated[kid] < event.seq < retired.get(kid, len(events) + 1), (
                f"mint #{event.seq} signed with {kid} outside its active span"
            )
            assert records[event.object_id].key_pair.kid == kid


def test_two_clashing_issuer_names_at_once_one_wins(cli_actor):
    pairs = [("ops", "ops-team"), ("lab-team", "lab"), ("qa", "qa_x"), ("edge", "edge-2")]
    for short, long in pairs:
        outcomes = run_together(
            lambda name=short: issuer_create(actor=cli_actor, name=name),
            lambda name=long: issuer_create(actor=cli_actor, name=name),
        )
        created = [result for result, error in outcomes if error is None]
        errors = [error for _, error in outcomes if error is not None]
        assert len(created) == 1 and len(errors) == 1, outcomes
        assert isinstance(errors[0], InvalidInput), repr(errors[0])
        assert errors[0].field == "name"
        assert "prefix" in errors[0].message
        names = set(Issuer.objects.filter(name__in=(short, long)).values_list("name", flat=True))
        assert names == {created[0].name}

    events = assert_chain_intact()
    assert [event.action for event in events] == ["issuer.create"] * len(pairs)
    assert Issuer.objects.count() == len(pairs)


def test_racing_retries_with_one_idempotency_key_mint_once(issuer, key_pair):
    actor = Actor(user=User.objects.create_user("pipeline"), channel="api", name="pipeline")

    def retry():
        minted, _ = token_mint_once(
            actor=actor,
            key="one-key",
            fingerprint="one-request",
            mint=lambda: token_mint(actor=actor, issuer=issuer, label="x"),
        )
        return minted.token

    outcomes = run_together(*[retry] * 4)
    errors = [error for _, error in outcomes if error is not None]
    assert not errors, "".join(traceback.format_exception(errors[0]))
    assert len({token for token, _ in outcomes}) == 1
    assert IssuedToken.objects.count() == 1
