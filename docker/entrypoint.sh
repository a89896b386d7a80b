#!/bin/sh
# The image's entrypoint: apply the migrations first when PORTAL_MIGRATE_ON_START says so, then
# become the command, so that it receives the signals (docker stop) and its exit status is the
# container's. Run from the repository root it does the same outside Docker, with the first
# python on PATH.
set -eu

# The words portal/env.py's env_bool accepts, so that one value means the same everywhere.
migrate=$(printf '%s' "${PORTAL_MIGRATE_ON_START:-false}" | tr '[:upper:]' '[:lower:]')
case "$migrate" in
    1 | true | yes | on)
        python manage.py migrate --no-input
        ;;
    0 | false | no | off | "")
        ;;
    *)
        echo "PORTAL_MIGRATE_ON_START must be one of 1/0, true/false, yes/no, on/off;" \
            "got '${PORTAL_MIGRATE_ON_START}'" >&2
        exit 2
        ;;
esac

exec "$@"
