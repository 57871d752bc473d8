"""The Celery app of tests/scripting.rs: a Redis broker and result backend on redsql."""
import os

from celery import Celery

port = os.environ["REDSQL_PORT"]
app = Celery("tasks", broker=f"redis://127.0.0.1:{port}/0", backend=f"redis://127.0.0.1:{port}/1")


@app.task
def add(x, y):
    return x + y
