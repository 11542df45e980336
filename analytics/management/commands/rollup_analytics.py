import datetime

from django.core.management.base import BaseCommand, CommandError

from analytics import services


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = ("Roll up each UTC day's chat activity, up to ten minutes ago, into the analytics tables (run it "
            "from cron every hour or so; the dashboard also queues it when it finds activity not rolled up).")

    def add_arguments(self, parser):
        parser.add_argument("--since", type=_date, help="First day to roll up (default: the first conversation's).")
        parser.add_argument("--day", type=_date, help="Roll up this one day again, replacing its figures.")

    def handle(self, *args, since=None, day=None, **options):
        if day is not None:
            if day > services.settled_before().date():
                raise CommandError(f"{day} has not started yet.")
            services.rollup_day(day=day)
            self.stdout.write(f"Rolled up {day}.")
            return
        days = services.rollup_settled_days(since=since)
        self.stdout.write(f"Rolled up {len(days)} day(s)" + (f": {days[0]} … {days[-1]}." if days else "."))
