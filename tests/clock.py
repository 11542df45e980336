"""A fixed instant far from midnight, for tests whose "today" must not change while they run."""

import datetime

NOON = datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC)
