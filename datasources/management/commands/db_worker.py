import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from datasources.embedders import get_embedder
from datasources.services import sweep_stuck


class Command(DatabaseWorkerCommand):
    """django-tasks-db's worker, which first recovers processing runs that a previous worker lost, and loads
    the embedding model before it takes a task, so that the first file does not wait for it."""

    def handle(self, *args, **options):
        outcome = sweep_stuck()
        if outcome.requeued or outcome.failed:
            self.stdout.write(f"Recovered {len(outcome.requeued)} interrupted data source(s); "
                              f"{len(outcome.failed)} ended in error after too many attempts.")
        if runs_tasks(options):
            get_embedder().prepare()
        return super().handle(*args, **options)


def runs_tasks(options) -> bool:
    """False in the parent of an autoreloading worker (`--reload`), which only restarts the one that does."""
    return not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
