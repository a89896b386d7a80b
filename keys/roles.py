"""The three roles of DESIGN.md, as Django groups. Each role includes the one before it."""

AUDITORS = "Token auditors"
ISSUERS = "Token issuers"
KEY_ADMINS = "Key administrators"

_VIEW = [
    "view_issuer",
    "view_keypair",
    "view_issuedtoken",
    "view_exporttarget",
    "view_exportedfile",
    "view_auditevent",
]
_MINT = ["mint_token", "revoke_token"]
_MANAGE = [
    "add_issuer",
    "change_issuer",
    "add_keypair",
    "change_keypair",
    "download_private_key",
    "add_exporttarget",
    "change_exporttarget",
    "export_keys",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    AUDITORS: _VIEW,
    ISSUERS: _VIEW + _MINT,
    KEY_ADMINS: _VIEW + _MINT + _MANAGE,
}


def sync_roles(apps) -> None:
    """Make each group hold exactly its permissions (all in the ``keys`` app). Called by data
    migrations with the historical app registry, so that a later change of roles is one more
    migration calling it again."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations (post_migrate); make them now so the
    # groups can hold them. The stub config of a migration's app registry needs the flag.
    app_config = apps.get_app_config("keys")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(
            content_type__app_label="keys", codename__in=codenames
        )
        # A permission of a model that a later migration adds is missing here; that migration
        # calls this again. tests/keys_tests/test_admin.py checks the final groups.
        group.permissions.set(permissions)
