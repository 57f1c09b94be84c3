"""Faults between the module and STS: a fault-injecting proxy on 127.0.0.1
(tests/support/fault_proxy.py) in front of moto answers each attempt as the test says. Every
fault must end in a bounded number of attempts (aws_config retries) and a clear failure within
the configured timeouts; the tests count the attempts and measure the time.

The time bound of a run: its attempts' own waits (timeouts) plus the SDK's backoff between
them, which is jittered exponential from 1 s (at most 2**(n-1) - 1 seconds before the n-th
attempt in all), plus SLACK for starting the process and moto's answers.
"""

import json
import subprocess
import time

import pytest
from fake_aws import FakeAWS
from fault_proxy import BacklogFull, FaultProxy, closed_port

from harness import TEST_ACCESS_KEY, TEST_SECRET_KEY, check_protocol, assert_network_safe

SLACK = 1.5
# The timeouts the timeout tests configure, in seconds.
T = 0.5


def backoff(attempts):
    """The most the SDK's standard backoff can wait in all before the last of `attempts`."""
    return 2 ** (attempts - 1) - 1


@pytest.fixture(scope="module")
def proxy(moto):
    with FaultProxy(moto.url) as p:
        yield p


@pytest.fixture
def run(module_binary, env, tmp_path):
    """run(url, aws_config, limit): one module run (sts_session_token unless `module` names
    another) against `url`; fails the test if it is not over within `limit` seconds (the process
    is then killed). Returns (rc, result, seconds)."""
    counter = iter(range(1000))

    def go(url, aws_config=None, limit=20, extra_env=None, module="sts_session_token"):
        """extra_env: variables for this run; with them, no keys are given as options."""
        executable = module_binary.parent / module
        args = {"endpoint_url": url, "_ansible_module_name": f"rustaws.creds.{module}"}
        if extra_env is None:
            args.update(access_key=TEST_ACCESS_KEY, secret_key=TEST_SECRET_KEY)
        if aws_config is not None:
            args["aws_config"] = aws_config
        run_env = {**env, **(extra_env or {})}
        assert_network_safe(run_env, args)
        path = tmp_path / f"args-{next(counter)}"
        path.write_text(json.dumps(args))
        start = time.monotonic()
        try:
            proc = subprocess.run([str(executable), str(path)], capture_output=True, text=True, timeout=limit,
                                  env=run_env, stdin=subprocess.DEVNULL, cwd=tmp_path)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the module was still running after {limit:.1f} s (killed)", pytrace=False)
        finally:
            path.unlink(missing_ok=True)
        elapsed = time.monotonic() - start
        r = check_protocol(proc)
        return r.rc, r.result, elapsed

    return go


def retries(attempts, **extra):
    return {"retries": {"total_max_attempts": attempts}, **extra}


def test_a_healthy_proxy_passes_through(proxy, run):
    proxy.set("pass")
    rc, r, _ = run(proxy.url, retries(1))
    assert rc == 0, r
    assert proxy.requests == 1 and "sts_creds" in r


def test_connection_refused(run):
    sock, url = closed_port()
    with sock:
        rc, r, elapsed = run(url, retries(3), limit=backoff(3) + 10)
    assert rc == 1
    assert r["msg"].startswith(f'Could not connect to the endpoint URL: "{url}"'), r["msg"]
    assert "Connection refused" in r["msg"], r["msg"]
    assert elapsed < backoff(3) + SLACK, elapsed


def test_connection_reset_in_the_middle_of_the_response(proxy, run):
    proxy.set("reset")
    rc, r, elapsed = run(proxy.url, {"retries": {"max_attempts": 1}})  # botocore: retries after the first
    assert rc == 1
    assert proxy.requests == 2
    assert r["msg"].startswith(f'The response to GetSessionToken from "{proxy.url}" could not be read'), r["msg"]
    assert "reset" in r["msg"].lower(), r["msg"]
    assert elapsed < backoff(2) + SLACK, elapsed


def test_connection_closed_without_an_answer(proxy, run):
    proxy.set("close")
    rc, r, elapsed = run(proxy.url, retries(2))
    assert rc == 1
    assert proxy.requests == 2
    assert f'"{proxy.url}"' in r["msg"] and "closed" in r["msg"], r["msg"]
    assert elapsed < backoff(2) + SLACK, elapsed


@pytest.mark.parametrize("fault,status,message", [
    ("status:500", 500, "An error occurred (InternalFailure) when calling the GetSessionToken operation: "
                        "injected by the fault proxy"),
    ("status:503", 503, "An error occurred (ServiceUnavailable) when calling the GetSessionToken operation: "
                        "injected by the fault proxy"),
    ("status:503:empty", 503, "failed with HTTP status 503"),
], ids=["500", "503", "503-no-body"])
def test_server_errors_are_retried_then_reported(proxy, run, fault, status, message):
    proxy.set(fault)
    rc, r, elapsed = run(proxy.url, retries(2))
    assert rc == 1
    assert proxy.requests == 2, "a server error is retried, as often as configured"
    assert message in r["msg"], r["msg"]
    assert r["response_metadata"]["http_status_code"] == status
    assert elapsed < backoff(2) + SLACK, elapsed


def test_default_retries_are_three_attempts(proxy, run):
    """Without aws_config: the SDK's standard mode, 3 attempts (README)."""
    proxy.set("status:503")
    rc, r, elapsed = run(proxy.url, None)
    assert rc == 1 and proxy.requests == 3, (proxy.requests, r)
    assert elapsed < backoff(3) + SLACK, elapsed


@pytest.mark.parametrize("mode", ["standard", "legacy"])
@pytest.mark.parametrize("code", ["Throttling", "RequestLimitExceeded"])
def test_throttling_is_retried_as_configured(proxy, run, mode, code):
    proxy.set(f"throttle:{code}")
    rc, r, elapsed = run(proxy.url, {"retries": {"max_attempts": 1, "mode": mode}})
    assert rc == 1
    assert proxy.requests == 2
    assert r["msg"] == f"An error occurred ({code}) when calling the GetSessionToken operation: Rate exceeded"
    assert r["error"]["code"] == code and r["response_metadata"]["http_status_code"] == 400
    assert elapsed < backoff(2) + SLACK, elapsed


def test_throttling_then_success_succeeds(proxy, run):
    proxy.set("throttle", "throttle", "pass")
    rc, r, elapsed = run(proxy.url, None)
    assert rc == 0, r
    assert proxy.requests == 3 and "sts_creds" in r
    assert elapsed < backoff(3) + SLACK, elapsed


def test_adaptive_mode_retries_throttling_within_the_backoff(proxy, run):
    proxy.set("throttle", "pass")
    rc, r, elapsed = run(proxy.url, {"retries": {"max_attempts": 1, "mode": "adaptive"}},
                         limit=backoff(2) + SLACK + 0.5)
    assert rc == 0, r
    assert proxy.requests == 2
    assert elapsed < backoff(2) + SLACK, elapsed


def test_an_answer_that_never_comes_ends_at_the_read_timeout(proxy, run):
    proxy.set("silent")
    try:
        rc, r, elapsed = run(proxy.url, retries(2, read_timeout=T), limit=2 * T + backoff(2) + SLACK + 1)
    finally:
        proxy.release()
    assert rc == 1
    assert proxy.requests == 2
    assert 2 * T <= elapsed < 2 * T + backoff(2) + SLACK, elapsed
    assert f'"{proxy.url}"' in r["msg"] and "read timeout of 500ms" in r["msg"], r["msg"]


def test_a_tls_handshake_that_never_completes_ends_at_the_read_timeout(proxy, run):
    proxy.set("silent")
    url = proxy.url.replace("http://", "https://")
    try:
        rc, r, elapsed = run(url, retries(2, read_timeout=T), limit=2 * T + backoff(2) + SLACK + 1)
    finally:
        proxy.release()
    assert rc == 1
    assert proxy.connections == 2
    assert 2 * T <= elapsed < 2 * T + backoff(2) + SLACK, elapsed
    assert f'"{url}"' in r["msg"], r["msg"]


def test_a_connection_that_never_opens_ends_at_the_connect_timeout(run):
    with BacklogFull() as server:
        assert server.hangs(), "setup: the full accept queue should make new connections hang"
        rc, r, elapsed = run(server.url, retries(2, connect_timeout=T), limit=2 * T + backoff(2) + SLACK + 1)
    assert rc == 1
    assert 2 * T <= elapsed < 2 * T + backoff(2) + SLACK, elapsed
    assert f'"{server.url}"' in r["msg"], r["msg"]


class ContainerCredentials(FakeAWS):
    """A container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI) on 127.0.0.1:
    aws-config's default chain fetches keys from it over the module's HTTP client, asking for
    its own timeouts (connect 2 s, read 5 s)."""

    methods = ("GET",)
    protocol_version = "HTTP/1.0"

    def answer(self, request):
        return self.json(200, {"AccessKeyId": TEST_ACCESS_KEY, "SecretAccessKey": TEST_SECRET_KEY,
                               "Token": "container-session-token", "Expiration": "2099-01-01T00:00:00Z"})


@pytest.fixture
def container_credentials():
    """The endpoint, serving; its URL is `.url + "/credentials"`, the paths it was asked `.paths()`."""
    with ContainerCredentials() as server:
        yield server


def test_the_credentials_providers_timeouts_do_not_become_the_calls(run, container_credentials):
    """The container provider's 2 s connect timeout and the module's configured one are pools
    of their own: the STS call after the credentials keeps its own 0.5 s. The container's
    credentials carry a session token, so the call is aws_caller_info's GetCallerIdentity
    (sts_session_token refuses session credentials)."""
    url = f"{container_credentials.url}/credentials"
    with BacklogFull() as server:
        rc, r, elapsed = run(server.url, retries(2, connect_timeout=T), limit=2 * 2 + backoff(2) + SLACK + 1,
                             extra_env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": url}, module="aws_caller_info")
    assert container_credentials.paths() == ["/credentials"]
    assert rc == 1
    assert r["msg"].startswith(
        f'Failed to retrieve caller identity: Connect timeout on endpoint URL: "{server.url}"'), r["msg"]
    assert 2 * T <= elapsed < 2 * T + backoff(2) + SLACK, elapsed


def test_timeouts_are_named_as_botocore_names_them(proxy, run):
    proxy.set("silent")
    try:
        _, r, _ = run(proxy.url, retries(1, read_timeout=T), limit=T + SLACK + 1)
    finally:
        proxy.release()
    assert r["msg"].startswith(f'Read timeout on endpoint URL: "{proxy.url}"'), r["msg"]
    with BacklogFull() as server:
        _, r, _ = run(server.url, retries(1, connect_timeout=T), limit=T + SLACK + 1)
    assert r["msg"].startswith(f'Connect timeout on endpoint URL: "{server.url}"'), r["msg"]


@pytest.mark.parametrize("fault", ["stall_body", "trickle"])
def test_a_response_body_that_stalls_ends_at_the_read_timeout(proxy, run, fault):
    proxy.set(fault)
    try:
        rc, r, elapsed = run(proxy.url, retries(1, read_timeout=T), limit=T + SLACK + 0.5)
    finally:
        proxy.release()
    assert rc == 1
    assert r["msg"].startswith(f'Read timeout on endpoint URL: "{proxy.url}"'), r["msg"]
    assert elapsed < T + SLACK, elapsed
