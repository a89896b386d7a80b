from keys.admin import audit, issuers, keypairs, targets, tokens  # noqa: F401  (registration)
