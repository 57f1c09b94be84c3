"""A moto server on a free 127.0.0.1 port, started and stopped by the project.

As a library: ``with MotoServer() as url: ...``; ``with authenticating_moto(setup) as (url, made)``
for one that authenticates every request like AWS once ``setup(iam)`` has created its users,
roles and policies; ``boto3_client(service, url)`` inside ``no_aws_environment()`` to set moto
up from this process. As a command:
``python moto_server.py [--iam-user NAME]... -- CMD ARGS...`` creates the IAM users named,
runs CMD with ``AWS_URL``, ``AWS_REGION`` and test credentials set to the running server, then
stops it and exits with CMD's status.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

# moto checks no signature; these are AWS's documented example values.
TEST_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
TEST_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    def __init__(self, tls_cert=None, tls_key=None):
        self.port = free_port()
        self.tls = (tls_cert, tls_key) if tls_cert else None
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.proc = None

    def __enter__(self) -> str:
        exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
        cmd = [exe, "-H", "127.0.0.1", "-p", str(self.port)]
        if self.tls:
            cmd += ["-c", self.tls[0], "-k", self.tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with status {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self.url
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("moto_server did not start within 30 s")

    def reset(self) -> None:
        """Forget every resource moto holds (users, keys, roles)."""
        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def no_aws_environment():
    """boto3 in this process must not read the developer's AWS variables or files."""
    saved = dict(os.environ)
    for k in list(os.environ):
        if k.startswith(("AWS_", "EC2_")) or k.lower() in PROXY_VARS:
            del os.environ[k]
    os.environ.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
                      AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def boto3_client(service, url, keys=(TEST_ACCESS_KEY, TEST_SECRET_KEY)):
    """A boto3 client of a local server (use it inside no_aws_environment())."""
    import boto3  # comes with moto[server]

    assert url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")), url
    return boto3.session.Session(
        aws_access_key_id=keys[0], aws_secret_access_key=keys[1], region_name="us-east-1",
    ).client(service, endpoint_url=url)


def create_iam_users(url, users):
    """IAM users of these names in the moto server at `url` (signed with the test keys)."""
    iam = boto3_client("iam", url)
    for user in users:
        iam.create_user(UserName=user)


def allow(*actions, resource="*"):
    """An IAM policy document allowing `actions` on `resource`."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": resource}]})


def user_with_key(iam, name, policy=None):
    """Creates IAM user `name` (with an inline policy document, if given) and one access key
    of it; returns the key as {"access_key": ..., "secret_key": ...}."""
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}


@contextlib.contextmanager
def authenticating_moto(setup):
    """A moto server of its own that authenticates every request like AWS does (the SigV4
    signature checked against IAM access keys, IAM policies enforced), from the moment
    ``setup(iam)`` (an unauthenticated IAM client) has returned. Yields (url, what setup returned)."""
    with MotoServer() as url:
        with no_aws_environment():
            made = setup(boto3_client("iam", url))
        req = urllib.request.Request(
            f"{url}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"},
        )
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10).read()
        yield url, made


def main(argv) -> int:
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1 :]
    users = [argv[i + 1] for i, a in enumerate(argv[: argv.index("--")]) if a == "--iam-user"]
    with MotoServer() as url:
        create_iam_users(url, users)
        env = dict(os.environ)
        env.update(
            AWS_URL=url,
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID=TEST_ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=TEST_SECRET_KEY,
        )
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(var, None)
        return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
