"""Issuer names (neuronex-compat.md rule 4).

The exported key file is ``<name>.pem`` and the default ``iss`` is that file name. Neuron finds
a key by *prefix* (the first file whose name starts with ``iss`` wins) and loads every file whose
name merely contains ``.pem``, so names must be plain, lowercase, prefix-free and must not shadow
Neuron's own login key or eKuiper's published sample key.
"""

import re
from collections.abc import Iterable

from keys.errors import InvalidInput
from keys.neuronex.profiles import KEY_FILE_SUFFIX

MAX_NAME_LENGTH = 64
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*\Z"
RESERVED_PREFIXES = ("neuron", "sample_key")
# Neuron's own login key, neuron.pem, is always in its key folder: no name may be its prefix.
NEURON_LOGIN_KEY = "neuron"
NEURON_LOGIN_KEY_PREFIXES = tuple(NEURON_LOGIN_KEY[:length] for length in range(1, 6))

_NAME_RE = re.compile(NAME_PATTERN)


def validate_name(name: str) -> None:
    """Raise InvalidInput, saying why, unless ``name`` may name a key file."""
    if not name:
        raise InvalidInput("A name is required.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"A name has at most {MAX_NAME_LENGTH} characters (this one has {len(name)}).",
            field="name",
        )
    if not _NAME_RE.match(name):
        raise InvalidInput(
            f"{name!r} is not a valid name: use lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit. It becomes the key file name "
            f"'<name>{KEY_FILE_SUFFIX}', so no dots, slashes, spaces or capitals.",
            field="name",
        )
    for prefix in RESERVED_PREFIXES:
        if name.startswith(prefix):
            raise InvalidInput(
                f"Names may not start with {prefix!r}: "
                + (
                    "Neuron looks up keys by prefix, so such a file would override "
                    "Neuron's own login key."
                    if prefix == "neuron"
                    else "that is eKuiper's published sample key pair, which anyone can sign with."
                ),
                field="name",
            )
    if NEURON_LOGIN_KEY.startswith(name):
        raise InvalidInput(
            f"{name!r} is the start of {NEURON_LOGIN_KEY!r}: Neuron looks up keys by prefix, so a "
            f"token whose iss is this name could be checked against Neuron's own "
            f"{NEURON_LOGIN_KEY}.pem.",
            field="name",
        )


def prefix_conflicts(name: str, others: Iterable[str]) -> list[str]:
    """The names among ``others`` of which ``name`` is a prefix, or which are a prefix of it."""
    return sorted(
        other
        for other in others
        if other != name and (other.startswith(name) or name.startswith(other))
    )


def prefix_conflict_message(name: str, conflicts: list[str]) -> str:
    listed = ", ".join(repr(other) for other in conflicts)
    return (
        f"{name!r} clashes with {listed}: one name is a prefix of the other. Neuron picks the "
        "first key file whose name starts with the token's iss, so a token for one could be "
        "checked against the other's key. Choose a name that is not the start of another "
        "name and does not start with one."
    )
