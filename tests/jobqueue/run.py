"""RQ end to end against redsql (run by tests/jobqueue.rs).

Usage: run.py ENQUEUE_PORT WORKER_PORT QUEUE

Enqueues 19 additions and one job that raises on the server at ENQUEUE_PORT,
runs `rq worker --burst` against the server at WORKER_PORT (the same server,
or another redsql process sharing its PostgreSQL store), then checks every
job's status and result. RQ 1.12 and later keep each job's results in a
stream (XADD ... MAXLEN ~ 10, read back with XREVRANGE): with them the
results are read through `Job.return_value()` and `latest_result()`.
Exit status: 0 when all is well, 77 when RQ is missing, 1 otherwise.
"""

import os
import subprocess
import sys

try:
    import rq
    from redis import Redis
    from rq import Queue
    from rq.job import Job
except ImportError as e:
    print("rq is not installed: %s" % e)
    sys.exit(77)

version = tuple(int(p) for p in rq.VERSION.split(".")[:2])
# Results in streams (RQ 1.12 and later).
streams = version >= (1, 12)


def result_of(job):
    return job.return_value() if streams else job.result


def exc_of(job):
    if not streams:
        return job.exc_info or ""
    latest = job.latest_result()
    return (latest.exc_string if latest else "") or ""


enqueue_port, worker_port, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
client = Redis(port=enqueue_port)
queue = Queue(name, connection=client)
adds = [(queue.enqueue("jobs.add", i, i * 10), i + i * 10) for i in range(19)]
failing = queue.enqueue("jobs.boom", 7)
assert len(queue) == 20, "queued: %d" % len(queue)

here = os.path.dirname(os.path.abspath(__file__))
env = dict(os.environ, PYTHONPATH=os.pathsep.join([here] + sys.path))
worker = subprocess.run(
    [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url",
     "redis://127.0.0.1:%d" % worker_port, name],
    capture_output=True, text=True, env=env, timeout=120)
if worker.returncode != 0:
    print("rq worker failed (%d):\n%s\n%s" % (worker.returncode, worker.stdout, worker.stderr))
    sys.exit(1)

problems = []
for job, want in adds:
    job = Job.fetch(job.id, connection=client)
    if job.get_status() != "finished" or result_of(job) != want:
        problems.append("%s: status %s, result %r (want finished, %r)"
                        % (job.id, job.get_status(), result_of(job), want))
job = Job.fetch(failing.id, connection=client)
if job.get_status() != "failed" or "ValueError: boom 7" not in exc_of(job):
    problems.append("failing job: status %s, exc_info %r" % (job.get_status(), exc_of(job)))
if len(queue) != 0:
    problems.append("%d jobs still queued" % len(queue))
if queue.finished_job_registry.count != 19:
    problems.append("finished registry: %d" % queue.finished_job_registry.count)
if queue.failed_job_registry.count != 1:
    problems.append("failed registry: %d" % queue.failed_job_registry.count)
if problems:
    print("\n".join(problems))
    print("worker output:\n%s\n%s" % (worker.stdout, worker.stderr))
    sys.exit(1)
if streams:
    # The results were written with XADD and read back with XREVRANGE.
    first = Job.fetch(adds[0][0].id, connection=client)
    if client.type("rq:results:%s" % first.id) != b"stream":
        problems.append("no result stream for %s" % first.id)
    if problems:
        print("\n".join(problems))
        sys.exit(1)
print("OK: rq %s: 19 jobs finished with the right results, 1 failed" % rq.VERSION)
