import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks import DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from datasources.embedders import get_embedder
from datasources.services import sweep_stuck


class Command(DatabaseWorkerCommand):
    """django-tasks-db's worker, which first recovers processing runs that a previous worker lost, and loads
    the embedding model before it takes a task, so that the first file does not wait for it. A worker of other
    queues only (webhook deliveries) does neither."""

    def handle(self, *args, **options):
        if not processes_files(options):
            return super().handle(*args, **options)
        outcome = sweep_stuck()
        if outcome.requeued or outcome.failed:
            self.stdout.write(f"Recovered {len(outcome.requeued)} interrupted data source(s); "
                              f"{len(outcome.failed)} ended in error after too many attempts.")
        if runs_tasks(options):
            get_embedder().prepare()
        return super().handle(*args, **options)


def processes_files(options) -> bool:
    queues = options["queue_name"].split(",")
    return DEFAULT_TASK_QUEUE_NAME in queues or "*" in queues


def runs_tasks(options) -> bool:
    """False in the parent of an autoreloading worker (`--reload`), which only restarts the one that does."""
    return not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
