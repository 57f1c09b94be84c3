"""The servers the benchmark measures against and puts in front of them: the TLS files for moto
(tests/support/certificates.py's private CA), an Endpoint (one moto server, as the modules reach it),
bench/tls_front.py and bench/shaped_link.py as context managers."""

import subprocess
import sys
import time

from certificates import CertificateAuthority
from common import HERE, IAM_USER, free_port, median
from moto_server import TEST_ACCESS_KEY, TEST_SECRET_KEY


def tls_files(d):
    """A private CA and a certificate for 127.0.0.1 it issued, in directory d: the paths of the CA's
    certificate, the server's certificate and its key."""
    ca = CertificateAuthority("rustaws bench CA", days=7)
    ca_path = ca.write(d)
    cert, key = ca.write_server(d)
    return ca_path, cert, key


class Endpoint:
    def __init__(self, name, url, ca_bundle=None, label=None):
        self.name = name  # a short name for files: "HTTP", "HTTPS", "HTTPS-front"
        self.label = label or name  # for the table
        self.url = url
        self.ca_bundle = ca_bundle

    def answer_time(self, n=20):
        """Median time of one STS request on a new connection (as a module makes it): connect,
        TLS handshake, request, whole answer; from this Python process."""
        times = []
        for _ in range(n + 2):
            start = time.perf_counter()
            self.post("Action=GetCallerIdentity&Version=2011-06-15", "GetCallerIdentity")
            times.append(time.perf_counter() - start)
        return median(times[2:])

    def assume_role_time(self, count, width, repeats=5):
        """Median time for `count` AssumeRole requests from this Python process, `width` at a time
        (threads), each on a new connection: what the server needs for a fan-out, whoever asks."""
        import concurrent.futures

        body = ("Action=AssumeRole&Version=2011-06-15&RoleSessionName=bench"
                "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fbench")
        times = []
        with concurrent.futures.ThreadPoolExecutor(width) as pool:
            for _ in range(repeats + 1):
                start = time.perf_counter()
                list(pool.map(lambda _: self.post(body, "AssumeRole"), range(count)))
                times.append(time.perf_counter() - start)
        return median(times[1:])

    def post(self, body, action):
        """One STS request with a made-up signature (moto does not check it) on a new
        connection, its whole answer read; exits unless it is answered 200."""
        import http.client
        import ssl
        import urllib.parse

        u = urllib.parse.urlsplit(self.url)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Authorization": f"AWS4-HMAC-SHA256 Credential={TEST_ACCESS_KEY}/20260101/us-east-1/sts/"
                                    "aws4_request, SignedHeaders=host, Signature=0"}
        if self.ca_bundle:
            conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10,
                                               context=ssl.create_default_context(cafile=str(self.ca_bundle)))
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.request("POST", "/", body, headers)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status != 200:
            sys.exit(f"{self.url}: {action} answered {resp.status}")

    def common_args(self):
        args = {"endpoint_url": self.url, "region": "us-east-1"}
        if self.ca_bundle:
            args["aws_ca_bundle"] = str(self.ca_bundle)
        return args

    def iam(self):
        import boto3

        return boto3.session.Session(
            aws_access_key_id=TEST_ACCESS_KEY, aws_secret_access_key=TEST_SECRET_KEY, region_name="us-east-1",
        ).client("iam", endpoint_url=self.url, verify=str(self.ca_bundle) if self.ca_bundle else None)

    def delete_keys(self):
        iam = self.iam()
        for k in iam.list_access_keys(UserName=IAM_USER)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=IAM_USER, AccessKeyId=k["AccessKeyId"])


class TlsFront:
    """bench/tls_front.py in front of moto's HTTP port: `with TlsFront(cert, key, port) as url`."""

    def __init__(self, cert, key, upstream):
        self.args = [sys.executable, str(HERE / "tls_front.py"), str(free_port()), str(cert), str(key), str(upstream)]
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.__exit__()
            sys.exit("bench/tls_front.py did not start")
        return f"https://127.0.0.1:{self.args[2]}"

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class ShapedLink:
    """bench/shaped_link.py between the controller and the ssh host: `with ShapedLink(host, (mbit,
    ms)) as (address, port)`; with no shape, the host's own address and port."""

    def __init__(self, host, shape):
        self.host, self.shape, self.proc = host, shape, None

    def __enter__(self):
        if self.shape is None:
            return self.host.address, self.host.port
        port = free_port()
        rate, delay = self.shape
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "shaped_link.py"), str(port), self.host.address, str(self.host.port),
             str(rate), str(delay)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.__exit__()
            sys.exit("bench/shaped_link.py did not start")
        return "127.0.0.1", port

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
