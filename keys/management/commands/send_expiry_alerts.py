from keys.durations import format_duration
from keys.management.base import PortalCommand
from keys.services.alerts import expiry_alerts_send


class Command(PortalCommand):
    help = (
        "Mail one digest to PORTAL_ALERT_EMAILS listing the active tokens that have come within "
        "an alert threshold (PORTAL_ALERT_THRESHOLDS, default 30d,7d,1d) of their expiry; each "
        "token is mailed once per threshold. Meant to run daily from cron. Exits 1 when the "
        "mail cannot be sent (nothing is recorded, so the next run tries again); without "
        "PORTAL_ALERT_EMAILS it does nothing and exits 0."
    )

    def handle(self, *args, **options):
        run = expiry_alerts_send(actor=self.actor)
        if not run.recipients:
            # Exit 0: a portal that does not use alerts must not fill cron's mail with errors.
            self._say("PORTAL_ALERT_EMAILS is not set: no expiry alerts are sent.", options)
        elif not run.due:
            self._say("No token has crossed an alert threshold since the last digest.", options)
        else:
            thresholds = sorted({alert.threshold for alert in run.due})
            self._say(
                f"Mailed {len(run.due)} expiring token(s) (within "
                f"{', '.join(format_duration(t) for t in thresholds)}) to "
                f"{', '.join(run.recipients)}.",
                options,
            )

    def _say(self, text: str, options) -> None:
        if options["verbosity"] >= 1:
            self.stdout.write(text)
