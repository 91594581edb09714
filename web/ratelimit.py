"""One rate limit for every way a question arrives: the chat window (and its Gradio queue) and /api/*.

Built on the `limits` library with a moving one-minute window per client address. The counts live in memory
(one process) unless ILMASTO_REDIS_URL names a Redis server, which every app process then shares.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bot.settings import Settings

RATE_LIMITED = "Liian monta kysymystä lyhyessä ajassa. Odota hetki ja kysy sitten uudelleen."
NAMESPACE = "ilmastobotti-kysymykset"
UNKNOWN_CLIENT = "unknown"


class QuestionLimit:
    """``per_minute`` questions per client address in any moving minute; 0 or less turns the limit off."""

    def __init__(self, per_minute: int, storage_url: str = "memory://"):
        self.per_minute = per_minute
        self._item = RateLimitItemPerMinute(max(per_minute, 1))
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    @classmethod
    def from_settings(cls, settings: Settings) -> "QuestionLimit":
        return cls(settings.rate_limit_per_minute, settings.redis_url or "memory://")

    def retry_after(self, client: str | None) -> int:
        """0 when the question may go ahead (it is then counted), else the seconds until it may."""
        if self.per_minute <= 0:
            return 0
        key = client or UNKNOWN_CLIENT
        if self._limiter.hit(self._item, NAMESPACE, key):
            return 0
        reset = self._limiter.get_window_stats(self._item, NAMESPACE, key).reset_time
        return max(1, math.ceil(reset - time.time()))
