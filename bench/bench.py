"""Benchmark: rustaws.creds against the Python modules it replaces. Run by scripts/bench.

Runs under the project's .venv (moto, cryptography, boto3 for the set-up); everything measured runs
with the bench virtualenv (the `ansible` package: ansible-core plus amazon.aws and community.aws,
boto3, botocore), so both sides get the same ansible-core, the same controller and the same moto.

What is measured, each against a moto server on 127.0.0.1, over HTTP and over HTTPS (moto with a
certificate from a private CA, trusted through the modules' `aws_ca_bundle` option):

1. One module run, the way ansible-core runs it on the managed host. The files are the ones
   ansible-core itself put there: an ad hoc run with ANSIBLE_KEEP_REMOTE_FILES=1 leaves, for a
   Python module, the AnsiballZ wrapper (module, module_utils and arguments in one file), run as
   `python AnsiballZ_<module>.py`; for ours, the copied executable and its args file, run as
   `AnsiballZ_<module> args`. Wall time from spawn to exit, peak RSS and CPU from wait4().
   iam_access_key is a pair: create a key, then delete it (its id written into the delete run's
   arguments before the clock starts); the pair's time is create + delete.
2. A playbook of 20 tasks of each module (iam_access_key: 10 create + delete pairs), hosts:
   localhost, connection local, the whole `ansible-playbook` wall time; beside it 20 tasks of
   ansible.builtin.debug (no module is sent or run: ansible's own per-task floor) and of
   ansible.builtin.ping (the smallest Python module).
3. Fan-out: 100 roles in one sts_assume_roles task, against a loop of 100 sts_assume_role tasks
   of ours and a loop of 100 amazon.aws.sts_assume_role tasks, over HTTP: the whole
   `ansible-playbook` wall time, the task's own duration (a callback's clock, from the task's
   start to its result), and the executable alone (one run with an args file of 100 roles, as
   ansible-core writes it, against 100 runs of sts_assume_role's one after another), also with
   bench/shaped_link.py adding a network delay in front of moto.
4. A managed host over ssh: sts_session_token through our cache, Ansible's standard binary-module
   path and the pipelined Python module, also over a shaped link.
5. The size of the shipped executable and of the Galaxy tarball.
6. IAM Identity Center (SSO), one module run each, against tests/support/fake_sso.py (SSO OIDC and
   the portal) and moto for STS, with a temporary HOME whose .aws/config has an [sso-session] and a
   profile that uses it: rustaws.creds.sso_login reusing a valid cached token (no call) and
   refreshing one near its expiry (one CreateToken), which have no Python counterpart, and
   aws_caller_info with the SSO profile (GetRoleCredentials, then STS), ours against amazon.aws's.

Medians are reported; runs of the two sides alternate so that a noisy moment hits both.

The parts: common.py (modules, targets, Run), servers.py (the TLS files, moto as an Endpoint, the
TLS front and the shaped link), workspace.py (the work directory, the environment, the captured
module files), local_runs.py (sections 1, 2 and 5), fanout.py (3), remote.py (4), sso.py (6),
report.py (the table and the text of the results).
"""

import argparse
import datetime
import os
import pathlib
import sys

# tests/support: moto_server, certificates and ssh_host, for this file and its parts.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "support"))
from common import IAM_USER, SECTIONS, fmt_time, log  # noqa: E402
from fanout import Fanout  # noqa: E402
from local_runs import Playbooks, SingleRuns, Sizes  # noqa: E402
from moto_server import MotoServer  # noqa: E402
from remote import Remote  # noqa: E402
from report import Report  # noqa: E402
from servers import Endpoint, TlsFront, tls_files  # noqa: E402
from sso import Sso  # noqa: E402
from workspace import Workspace  # noqa: E402


class Bench:
    def __init__(self, opts):
        self.opts = opts
        self.ws = Workspace(opts)
        self.report = Report(self.ws)

    def measure(self):
        """Every section asked for, against moto over HTTP, over HTTPS and through the TLS front."""
        ws, report, sections = self.ws, self.report, self.opts.sections
        ws.write_config()
        ws.install_collection()
        ca, cert, key = tls_files(ws.work)
        old = {k: os.environ.pop(k) for k in list(os.environ)
               if k.startswith(("AWS_", "SSL_CERT_")) or k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
        os.environ.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
                          AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        with MotoServer() as http_url, MotoServer(tls_cert=str(cert), tls_key=str(key)) as https_url, \
                TlsFront(cert, key, int(http_url.rsplit(":", 1)[1])) as front_url:
            http = Endpoint("HTTP", http_url)
            https = Endpoint("HTTPS", https_url, ca, label="HTTPS (moto's TLS server)")
            front = Endpoint("HTTPS-front", front_url, ca,
                             label="HTTPS via a TLS front (asyncio) to moto's HTTP server")
            for ep in (http, https):
                ep.iam().create_user(UserName=IAM_USER)
            if "single" in sections:
                for ep in (http, https, front):
                    report.row(f"One module run, {ep.label}", "the server's answer to one STS request "
                               "(new connection, from a Python client)", fmt_time(ep.answer_time()),
                               "(same server)", None, None)
                    log(f"one module run over {ep.label}: {self.opts.runs} runs each side")
                    SingleRuns(ws, report).run(ep)
            if "sso" in sections:
                Sso(ws, report).run(http)
            if "playbooks" in sections:
                for ep in (http, https):
                    log(f"playbooks over {ep.label}: {self.opts.playbook_runs} runs each")
                    Playbooks(ws, report).run(ep)
            if "fanout" in sections:
                log(f"fan-out over {http.label}: {self.opts.playbook_runs} playbook runs each")
                Fanout(ws, report).run(http)
            if "remote" in sections:
                Remote(ws, report).run(http)
        os.environ.update(old)
        if "sizes" in sections:
            Sizes(ws, report).run()

    def main(self):
        started = datetime.datetime.now(datetime.timezone.utc)
        load0 = os.getloadavg()
        try:
            self.measure()
        finally:
            self.ws.close(self.opts.keep)
        finished = datetime.datetime.now(datetime.timezone.utc)
        load1 = os.getloadavg()
        text = self.report.text(started, finished, load0, load1)
        print(text)
        if self.opts.out:
            pathlib.Path(self.opts.out).write_text(text)
            log(f"written to {self.opts.out}")
        misses = [v for *_, v in self.report.verdicts() if v == "MISS"]
        return 1 if misses and self.opts.strict else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tarball", required=True)
    p.add_argument("--bench-venv", required=True)
    p.add_argument("--ansible-version", default="?")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--playbook-runs", type=int, default=5)
    p.add_argument("--playbook-warmup", type=int, default=1)
    p.add_argument("--remote-runs", type=int, default=3)
    p.add_argument("--sections", type=lambda v: v.split(","), default=list(SECTIONS),
                   help=f"comma-separated, of {', '.join(SECTIONS)} (default: all)")
    p.add_argument("--out")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return Bench(p.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())
