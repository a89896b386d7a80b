"""Public key files for operators who copy them by hand."""

import hashlib
import io
import json
import zipfile

from keys.models import KeyPair

PEM_CONTENT_TYPE = "application/x-pem-file"


def public_keys_zip() -> bytes:
    """Every active public key as ``<name>.pem``, with a manifest.json listing each file's
    ``iss``, ``kid`` and SHA-256, so the copy can be checked where it lands."""
    active = (
        KeyPair.objects.filter(status=KeyPair.Status.ACTIVE, issuer__is_active=True)
        .select_related("issuer")
        .defer("private_key_encrypted")
        .order_by("issuer__name")
    )
    buffer = io.BytesIO()
    manifest = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key_pair in active:
            content = key_pair.public_pem.encode("ascii")
            name = key_pair.issuer.key_file_name
            archive.writestr(name, content)
            manifest.append(
                {
                    "file": name,
                    "iss": key_pair.issuer.iss,
                    "aud": key_pair.issuer.audience,
                    "kid": key_pair.kid,
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
            )
        archive.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
    return buffer.getvalue()
