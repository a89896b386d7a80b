from keys.admin import api_tokens, audit, issuers, keypairs, targets, tokens  # noqa: F401  (registration)
