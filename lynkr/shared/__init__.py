"""State several Lynkr processes share, in Redis (``REDIS_URL``): the Redis side of the
``RateLimiter``, ``BreakerBoard``, ``ResponseCache`` and ``SessionStore`` ports, each falling
back to its local side while Redis is unreachable (``link.py``)."""
