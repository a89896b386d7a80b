"""Rule 6: no NeuronEX-family verifier has a deny-list."""

from datetime import datetime


def still_accepted_until(*, revoked: bool, exp: datetime, key_active: bool, now: datetime):
    """Until when a verifier still accepts a token the portal has revoked, or None.

    A revoked token keeps verifying until its ``exp`` unless the key that signed it is no
    longer in force: neither the issuer's active key nor still in a verifier's folder."""
    if not revoked or exp <= now or not key_active:
        return None
    return exp


def revocation_notice(accepted_until: datetime | None) -> str:
    if accepted_until is None:
        return "NeuronEX no longer accepts this token: it has expired or its key was rotated."
    return (
        "NeuronEX has no deny-list: it keeps accepting this token until it expires at "
        f"{accepted_until:%Y-%m-%d %H:%M:%S} UTC, or until the issuer's key is rotated and the "
        "new public key exported. Rotate the key to make the revocation take effect now."
    )
