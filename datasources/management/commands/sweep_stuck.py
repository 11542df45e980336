from django.core.management.base import BaseCommand

from datasources.services import sweep_stuck


class Command(BaseCommand):
    help = "Queue again the data sources whose processing died (worker killed), or end them in error."

    def handle(self, *args, **options):
        outcome = sweep_stuck()
        for data_source in outcome.requeued:
            self.stdout.write(f"requeued {data_source.id} {data_source.name} (attempt {data_source.attempts + 1})")
        for data_source in outcome.failed:
            self.stdout.write(f"gave up on {data_source.id} {data_source.name}: {data_source.error_message}")
        self.stdout.write(f"{len(outcome.requeued)} requeued, {len(outcome.failed)} ended in error")
