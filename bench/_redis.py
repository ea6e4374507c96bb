"""A Redis server of the bench's own: Debian's redis-server on a free loopback port, without
persistence, in a temporary folder, stopped when the bench ends."""

import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager

from ._postgres import _free_port


@contextmanager
def redis_server():
    """Yields a redis:// URL, or None (with the reason printed) when redis-server is missing
    (`bash scripts/system-packages.sh redis-server`)."""
    binary = shutil.which("redis-server")
    if binary is None:
        print("Redis missing: install Debian's redis-server "
              "(bash scripts/system-packages.sh redis-server)")
        yield None
        return
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as folder:
        server = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", folder,
             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        try:
            import redis

            client = redis.Redis(host="127.0.0.1", port=port)
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait(timeout=10)
