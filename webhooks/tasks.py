from datetime import datetime

from django_tasks import task

from config import rls
from webhooks import delivery
from webhooks.models import Delivery

QUEUE = "webhooks"  # a worker of its own (bin/serve): a slow receiver never holds up file processing


@task(queue_name=QUEUE)
def deliver(delivery_id: str) -> None:
    with rls.dangerously_all_companies(rls.WayAround.WORKER_CLAIM):
        company_id = Delivery.objects.filter(pk=delivery_id).values_list("company_id", flat=True).first()
    with rls.company_transaction(company_id):
        retry_at = delivery.attempt(delivery_id)
    if retry_at is not None:
        queue(delivery_id, run_after=retry_at)


def queue(delivery_id: str, *, run_after: datetime | None = None) -> None:
    """Queue an attempt, and note its task on the delivery (webhooks.delivery.recover_lost reads it)."""
    result = (deliver.using(run_after=run_after) if run_after else deliver).enqueue(delivery_id)
    Delivery.objects.filter(pk=delivery_id).update(task_id=result.id)


@rls.dangerously_all_companies(rls.WayAround.SWEEPER)
def requeue_lost() -> int:
    """Queue again the deliveries a killed worker left behind; how many."""
    lost = delivery.recover_lost()
    for item in lost:
        queue(str(item.id))
    return len(lost)
