from collections.abc import Callable, Iterable
from typing import Any

from django.db import models

from keys.errors import InvalidInput


def apply_changes(
    obj: models.Model,
    changes: dict[str, Any],
    *,
    editable: Iterable[str],
    snapshot: Callable[[Any], dict],
    validate: Callable[[Any], None],
) -> dict[str, list]:
    """Set ``changes`` on ``obj`` (only ``editable`` fields), validate the result, and return
    what changed as {field: [before, after]} in the terms of ``snapshot``, for the audit log.
    Saves nothing."""
    unknown = set(changes) - set(editable)
    if unknown:
        raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    before = snapshot(obj)
    for field, value in changes.items():
        setattr(obj, field, value)
    validate(obj)
    after = snapshot(obj)
    return {key: [before[key], after[key]] for key in after if before[key] != after[key]}
