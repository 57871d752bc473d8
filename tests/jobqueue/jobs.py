"""Job functions for the RQ end-to-end test (tests/jobqueue.rs)."""


def add(a, b):
    return a + b


def boom(x):
    raise ValueError("boom %s" % x)
