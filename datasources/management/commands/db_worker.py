import os

from django.conf import settings
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks import DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from datasources.embedders import get_embedder
from datasources.services import sweep_stuck, websites_recrawl_due
from webhooks.tasks import QUEUE as WEBHOOKS_QUEUE
from webhooks.tasks import requeue_lost


class Command(DatabaseWorkerCommand):
    """django-tasks-db's worker, which first recovers processing runs that a previous worker lost, and loads
    the embedding model before it takes a task, so that the first file does not wait for it. A worker of the
    webhooks queue first queues again the deliveries a killed worker left behind."""

    def handle(self, *args, **options):
        if serves(options, WEBHOOKS_QUEUE) and (lost := requeue_lost()):
            self.stdout.write(f"Queued again {lost} webhook deliveries that a stopped worker left unfinished.")
        if not serves(options, DEFAULT_TASK_QUEUE_NAME):
            return super().handle(*args, **options)
        outcome = sweep_stuck()
        if outcome.requeued or outcome.failed:
            self.stdout.write(f"Recovered {len(outcome.requeued)} interrupted data source(s); "
                              f"{len(outcome.failed)} ended in error after too many attempts.")
        if recrawls := websites_recrawl_due():
            self.stdout.write(f"Queued a re-crawl of {recrawls} website(s) last crawled "
                              f"{settings.WEBSITE_RECRAWL_HOURS} hours ago or more.")
        if runs_tasks(options):
            get_embedder().prepare()
        return super().handle(*args, **options)


def serves(options, queue: str) -> bool:
    queues = options["queue_name"].split(",")
    return queue in queues or "*" in queues


def runs_tasks(options) -> bool:
    """False in the parent of an autoreloading worker (`--reload`), which only restarts the one that does."""
    return not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
