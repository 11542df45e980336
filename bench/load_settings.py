"""Docent's settings for bench/chat_load.py: config.settings with the plans' rate limit raised.

The per-key and per-address limits come from the environment (CHAT_RATE_PER_KEY, CHAT_RATE_PER_IP);
a plan's requests per minute does not, so the load run raises it here, for both of its Daphnes.
"""

from config.settings import *  # noqa: F403
from config.settings import PLANS

PLANS = {name: {**limits, "requests_per_minute": 1_000_000} for name, limits in PLANS.items()}
