"""A moto server on a free 127.0.0.1 port, started and stopped by the project.

As a library: ``with MotoServer() as url: ...``. As a command:
``python moto_server.py [--iam-user NAME]... -- CMD ARGS...`` creates the IAM users named,
runs CMD with ``AWS_URL``, ``AWS_REGION`` and test credentials set to the running server, then
stops it and exits with CMD's status.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request

# moto checks no signature; these are AWS's documented example values.
TEST_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
TEST_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


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


def main(argv) -> int:
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1 :]
    users = [argv[i + 1] for i, a in enumerate(argv[: argv.index("--")]) if a == "--iam-user"]
    with MotoServer() as url:
        if users:
            import boto3  # comes with moto[server]

            iam = boto3.client(
                "iam",
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id=TEST_ACCESS_KEY,
                aws_secret_access_key=TEST_SECRET_KEY,
            )
            for user in users:
                iam.create_user(UserName=user)
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
