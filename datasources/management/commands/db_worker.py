from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from datasources.services import sweep_stuck


class Command(DatabaseWorkerCommand):
    """django-tasks-db's worker, which first recovers processing runs that a previous worker lost."""

    def handle(self, *args, **options):
        outcome = sweep_stuck()
        if outcome.requeued or outcome.failed:
            self.stdout.write(f"Recovered {len(outcome.requeued)} interrupted data source(s); "
                              f"{len(outcome.failed)} ended in error after too many attempts.")
        return super().handle(*args, **options)
