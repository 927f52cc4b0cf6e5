"""State shared by several instances through Redis (REDIS_URL): the result cache and
its running checks, redelivery dedupe, the replay guard and the rate limits.

Each concern has a Redis implementation here beside its in-process one in
bot/slack/ and falls back to that one while Redis is away (see link.py).
"""
