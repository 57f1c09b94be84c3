"""The throw-away Ceph cluster leaves no process behind, however the pytest run that started it
ends: a failing test, Ctrl-C (SIGINT to the foreground process group, as a terminal sends it)
during a test or while the cluster is still starting, SIGTERM, or SIGKILL.

Each case runs an inner pytest session (in its own process group, outside the project's
conftest) whose session fixture is the one test_ceph_sts.py uses (ceph.cluster_for_tests). The
inner test writes the cluster's ceph.conf path and its daemons' PIDs to a report file; the outer
test then ends the inner session as the case says and checks that none of those PIDs runs, and
that no process at all mentions that cluster's ceph.conf on its command line.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import ceph
import pytest

SUPPORT = pathlib.Path(ceph.__file__).resolve().parent
INNER = textwrap.dedent("""
    import json, os, pathlib, signal, sys, time
    sys.path.insert(0, {support!r})
    import ceph, pytest

    # As in a terminal, whatever started the outer session: a shell's background job inherits
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    REPORT = pathlib.Path({report!r})
    MODE = {mode!r}

    def report(cluster):
        REPORT.write_text(json.dumps({{"conf": str(cluster.conf), "pid_file": str(cluster.pid_file),
                                       "daemons": cluster.daemons_alive()}}))

    class InterruptedWhileStarting(ceph.CephCluster):
        def _make_identities(self):
            report(self)
            os.killpg(os.getpgrp(), signal.SIGINT)  # Ctrl-C while the cluster starts
            time.sleep(30)

    @pytest.fixture(scope="session")
    def cluster(tmp_path_factory):
        cls = InterruptedWhileStarting if MODE == "sigint while starting" else None
        with ceph.cluster_for_tests(tmp_path_factory, cls=cls) as c:
            yield c

    def test_with_the_cluster(cluster):
        report(cluster)
        assert cluster.client("s3").list_buckets()["Buckets"] == []
        if MODE == "failing test":
            assert False, "this test fails on purpose"
        REPORT.with_suffix(".ready").write_text("")
        time.sleep(60)  # until the outer test signals this session
""")

# How each case ends the inner session, the exit status pytest (or the signal) gives it, and
# whether the cluster is stopped in order (by the fixture's teardown, or by start() itself) or
# by the kernel (parent-death signal; the daemons are then zombies until PID 1 reaps them).
CASES = {
    "failing test": (None, 1, "in order"),
    "sigint": (signal.SIGINT, 2, "in order"),  # pytest: interrupted
    "sigint while starting": (None, 2, "in order"),
    "sigterm": (signal.SIGTERM, -signal.SIGTERM, "by the kernel"),  # pytest has no handler: it dies
    "sigkill": (signal.SIGKILL, -signal.SIGKILL, "by the kernel"),
}


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout} s")
        time.sleep(0.1)


def _alive(pid, comm):
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        name = pathlib.Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return False
    return name == comm and stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("case", list(CASES))
def test_no_ceph_process_survives(tmp_path, case):
    ceph.ensure_installed()
    sig, expected_status, stopped = CASES[case]
    report = tmp_path / "report.json"
    inner = tmp_path / "test_inner.py"
    inner.write_text(INNER.format(support=str(SUPPORT), report=str(report), mode=case))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AWS_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    # The inner session dies with this one (it would otherwise sleep on with its cluster).
    setpriv = ceph.which("setpriv")
    proc = subprocess.Popen(
        [*([setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []), sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
         "--rootdir", str(tmp_path), "--basetemp", str(tmp_path / "t"), str(inner)],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a job in a terminal
    )
    try:
        if sig is not None:
            ready = report.with_suffix(".ready")
            _wait_for(lambda: ready.exists() or proc.poll() is not None, 90, "the inner test did not start")
            assert proc.poll() is None, proc.communicate()[0].decode(errors="replace")
            if sig == signal.SIGINT:
                os.killpg(proc.pid, sig)  # what Ctrl-C in a terminal does
            else:
                os.kill(proc.pid, sig)
        output, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = output.decode(errors="replace")
    assert proc.returncode == expected_status, output
    if sig == signal.SIGINT or case == "sigint while starting":
        assert "KeyboardInterrupt" in output, output

    seen = json.loads(report.read_text())
    names = sorted(name for name, _ in seen["daemons"])
    assert names == ["client.rgw", "mon.a", "osd.0"], seen
    comms = {"mon.a": "ceph-mon", "osd.0": "ceph-osd", "client.rgw": "radosgw"}
    # The kernel's parent-death signal acts at once; the bound only covers scheduling.
    # stop() removes the pids file after the last daemon has exited.
    assert pathlib.Path(seen["pid_file"]).exists() == (stopped == "by the kernel"), output
    _wait_for(lambda: not any(_alive(pid, comms[name]) for name, pid in seen["daemons"])
              and not ceph.processes_using(seen["conf"]), 10,
              f"Ceph processes still run after '{case}': {ceph.processes_using(seen['conf'])}")
