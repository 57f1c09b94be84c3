"""Load: 50 module runs at once against one endpoint, as 50 parallel processes (what
ansible does with 50 forks, minus ansible). All must succeed; throttling answers under load
must be retried. The wall time is printed (-s), not asserted."""

import concurrent.futures
import json
import subprocess
import time

import pytest
from fault_proxy import FaultProxy

from harness import INTERNAL_ARGS, MOTO_ACCESS_KEY, TEST_ACCESS_KEY, TEST_SECRET_KEY, check_protocol, assert_network_safe

RUNS = 50


@pytest.fixture
def run_many(module_binary, env, tmp_path):
    """run_many(url, count, aws_config): `count` module runs started together; their results."""

    def go(url, count=RUNS, aws_config=None):
        args = {"endpoint_url": url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
                "duration_seconds": 900, **INTERNAL_ARGS}
        if aws_config is not None:
            args["aws_config"] = aws_config
        assert_network_safe(env, args)
        paths = []
        for i in range(count):
            path = tmp_path / f"args-{i}"
            path.write_text(json.dumps(args))
            paths.append(path)

        def one(path):
            proc = subprocess.run([str(module_binary), str(path)], capture_output=True, text=True, timeout=120,
                                  env=env, stdin=subprocess.DEVNULL, cwd=tmp_path)
            return check_protocol(proc)

        start = time.monotonic()
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
                results = list(pool.map(one, paths))
        finally:
            for path in paths:
                path.unlink(missing_ok=True)
        return results, time.monotonic() - start

    return go


def test_fifty_runs_at_once_all_succeed(run_many, moto):
    results, elapsed = run_many(moto.url)
    failed = [r.result.get("msg") for r in results if r.rc != 0]
    assert not failed, f"{len(failed)} of {RUNS} runs failed: {failed[:3]}"
    assert all(r.result["sts_creds"]["access_key"] == MOTO_ACCESS_KEY for r in results)
    print(f"{RUNS} parallel runs against moto: {elapsed:.2f} s wall")


def test_throttling_under_load_is_retried(run_many, moto):
    """Through the fault proxy, each run's first two attempts are throttled: with the default
    retries (standard mode, 3 attempts) every run still succeeds, on its third attempt."""
    with FaultProxy(moto.url) as proxy:
        proxy.set("throttle_attempts:2")
        results, elapsed = run_many(proxy.url)
    failed = [r.result.get("msg") for r in results if r.rc != 0]
    assert not failed, f"{len(failed)} of {RUNS} runs failed: {failed[:3]}"
    assert proxy.throttled == 2 * RUNS, proxy.throttled
    assert proxy.requests == 3 * RUNS, proxy.requests
    print(f"{RUNS} parallel runs, each throttled twice: {elapsed:.2f} s wall")


def test_throttling_beyond_the_retries_fails_every_run_clearly(run_many, moto):
    with FaultProxy(moto.url) as proxy:
        proxy.set("throttle_attempts:2")
        results, _ = run_many(proxy.url, aws_config={"retries": {"max_attempts": 1}})
    assert all(r.rc == 1 for r in results)
    assert {r.result["msg"] for r in results} == {
        "An error occurred (Throttling) when calling the GetSessionToken operation: Rate exceeded"}
    assert proxy.requests == 2 * RUNS
