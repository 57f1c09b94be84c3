"""What every part of the benchmark (bench/bench.py) shares: the modules and targets, the
settings of the fan-out, small helpers, and Run, one measured process."""

import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

MiB = 1024 * 1024
PLACEHOLDER_ID = "AKIABENCHPLACEHOLDER"  # 20 characters, like a real access key id
IAM_USER = "bench-user"
ROLE_ARN = "arn:aws:iam::123456789012:role/bench"

# Module -> (ours, theirs, arguments)
MODULES = {
    "sts_session_token": ("rustaws.creds.sts_session_token", "community.aws.sts_session_token",
                          {"duration_seconds": 900}),
    "sts_assume_role": ("rustaws.creds.sts_assume_role", "amazon.aws.sts_assume_role",
                        {"role_arn": ROLE_ARN, "role_session_name": "bench"}),
    "iam_access_key:create": ("rustaws.creds.iam_access_key", "amazon.aws.iam_access_key",
                              {"user_name": IAM_USER, "state": "present"}),
    "iam_access_key:delete": ("rustaws.creds.iam_access_key", "amazon.aws.iam_access_key",
                              {"user_name": IAM_USER, "id": PLACEHOLDER_ID, "state": "absent"}),
}

# Target -> (comparison, limit, unit) for the value a row is judged by.
TARGETS = {
    "run_ratio": (">=", 30.0, "x"),  # one module run at least 30x faster
    "playbook_ratio": (">=", 10.0, "x"),  # 20-task playbook (connection: local) at least 10x faster
    "debug_ratio": ("<=", 1.3, "x debug"),  # ... and at most 1.3 times the 20 x debug playbook
    "rss_mib": ("<=", 10.0, " MiB"),  # peak memory of one run
    "module_mib": ("<=", 5.0, " MiB"),  # the module file
    "tarball_mib": ("<=", 12.0, " MiB"),
    "remote_task_s": ("<=", 0.25, " s"),  # per task on the shaped link
    "remote_ratio": (">=", 3.0, "x"),  # ... at least 3x faster than the pipelined Python module
    "fanout_ratio": (">=", 10.0, "x"),  # 100 roles: one sts_assume_roles task 10x faster than our loop
    "fanout_wall_s": ("<=", 0.5, " s"),  # ... and under 0.5 s
}
SECTIONS = ("single", "sso", "playbooks", "fanout", "remote", "sizes")
FANOUT_ROLES = 100
FANOUT_CONCURRENCY = (8, 1, 32)  # the default first
# The executable-alone runs again through bench/shaped_link.py: (Mbit/s, one-way delay ms), a
# delay like a nearby AWS region's and no bottleneck to speak of.
FANOUT_DELAY = (10000, 10)


# ------------------------------------------------------------------------------------------------
# Small helpers


def log(msg):
    print(f"-- {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_json(text):
    i = text.find("{")
    if i < 0:
        raise ValueError(f"no JSON object in output: {text[:300]!r}")
    obj, _ = json.JSONDecoder().raw_decode(text, i)
    return obj


class Run:
    """One process: wall seconds (spawn to reaped), CPU seconds (user + system), exit status and
    output; with rss=True it runs under /usr/bin/time instead, for the peak RSS only.

    Why two kinds of run: Linux carries the high-water RSS of the address space a process had
    before execve() into its ru_maxrss, so a child spawned from this Python harness (80 MB)
    would report 80 MB whatever it used. GNU time is a small C program: spawned from it, the
    child's ru_maxrss is its own (plus the 2 MB time had). Its own start-up would add to the
    wall time, so that is measured in separate, direct runs."""

    def __init__(self, argv, env, cwd, rss=False):
        self.rss = None
        if rss:
            fd, rss_file = tempfile.mkstemp(prefix="rss-", dir=cwd)
            os.close(fd)
            argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        self.wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.rc = proc.returncode
        self.cpu = usage.ru_utime + usage.ru_stime
        self.output = out.decode(errors="replace")
        if rss:
            text = pathlib.Path(rss_file).read_text().strip().splitlines()
            os.unlink(rss_file)
            self.rss = int(text[-1]) * 1024  # KiB


def median(values):
    return statistics.median(values)


def fmt_time(seconds):
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_mib(n):
    return f"{n / MiB:.2f} MiB"


# ------------------------------------------------------------------------------------------------
# TLS: a private CA and a certificate for 127.0.0.1


class Part:
    """One section's measurements: what they run in (a Workspace) and the table they add rows to
    (a Report)."""

    def __init__(self, ws, report):
        self.ws, self.report, self.opts = ws, report, ws.opts

    def row(self, *args, **kwargs):
        """A row of the report's table (Report.row)."""
        self.report.row(*args, **kwargs)
