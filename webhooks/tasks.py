from django_tasks import task

from webhooks import delivery

QUEUE = "webhooks"  # a worker of its own (bin/serve): a slow receiver never holds up file processing


@task(queue_name=QUEUE)
def deliver(delivery_id: str) -> None:
    retry_at = delivery.attempt(delivery_id)
    if retry_at is not None:
        deliver.using(run_after=retry_at).enqueue(delivery_id)
