"""The suite's job queue and rate limits are where the leg says: Redis when REDIS_URL is set
(CI's third leg), else SQLite and memory."""

from huey.storage import RedisStorage, SqliteStorage
from limits.storage import MemoryStorage
from limits.storage import RedisStorage as LimitsRedisStorage

from shopadmin.extensions import huey, limiter
from shopadmin.jobs import HEARTBEAT_KEY, record_heartbeat

from ..conftest import REDIS_URL


def test_queue_and_limits_follow_redis_url(app, client):
    record_heartbeat()
    assert client.get("/login").status_code == 200
    prefix = app.config["REDIS_PREFIX"]
    if REDIS_URL:
        import redis

        assert isinstance(huey.storage, RedisStorage)
        assert isinstance(limiter.storage, LimitsRedisStorage)
        assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
        connection = redis.Redis.from_url(REDIS_URL)
        try:
            assert connection.hexists(huey.storage.result_key, HEARTBEAT_KEY)
            assert prefix in huey.storage.result_key
        finally:
            connection.close()
    else:
        assert isinstance(huey.storage, SqliteStorage)
        assert isinstance(limiter.storage, MemoryStorage)
