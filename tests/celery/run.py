"""Starts a Celery worker on redsql, sends add.delay(2, 3), checks that .get()
returns 5. Exits 77 (skip) when Celery is not installed."""
import os
import subprocess
import sys

try:
    import celery  # noqa: F401
except ImportError:
    print("celery is not installed")
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from tasks import add  # noqa: E402

log_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"celery-worker-{os.getpid()}.log")
log = open(log_path, "w+")
worker = subprocess.Popen(
    [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=solo", "-l", "warning"],
    cwd=here,
    stdout=log,
    stderr=subprocess.STDOUT,
)
try:
    result = add.delay(2, 3).get(timeout=60)
    assert result == 5, result
    print("ok", result)
except BaseException:
    log.seek(0)
    print(log.read())
    raise
finally:
    worker.terminate()
    worker.wait(20)
    log.close()
    os.remove(log_path)
