"""The benchmark's report: the rows of the table with their verdicts, and the text of
bench/results.md (the header: when, the machine, the versions, the method; the targets; the table)."""

import os
import platform
import subprocess
import sys

from common import FANOUT_DELAY, FANOUT_ROLES, ROOT, TARGETS


class Report:
    def __init__(self, ws):
        self.ws, self.opts = ws, ws.opts
        self.rows = []  # (section, what, ours, theirs, ratio, target, verdict)

    def row(self, section, what, ours, theirs, ratio, target, value=None):
        """value: what the target judges (the ratio when not given)."""
        verdict, tdesc = "", ""
        if target:
            op, limit, unit = TARGETS[target]
            value = ratio if value is None else value
            tdesc = f"{op} {limit:g}{unit}"
            verdict = "PASS" if (value >= limit if op == ">=" else value <= limit) else "MISS"
        self.rows.append((section, what, ours, theirs, f"{ratio:.1f}x" if ratio is not None else "", tdesc, verdict))

    def table(self):
        lines = []
        section = None
        head = "| What | rustaws.creds | Python module | Ratio | Target | |"
        for s, what, ours, theirs, ratio, tdesc, verdict in self.rows:
            if s != section:
                section = s
                lines += ["", f"### {s}", "", head, "|---|---|---|---|---|---|"]
            lines.append(f"| {what} | {ours} | {theirs} | {ratio} | {tdesc} | {verdict} |")
        return "\n".join(lines)

    def machine(self):
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                   platform.processor())
        pretty = ""
        try:
            pretty = next(line.split("=", 1)[1].strip().strip('"') for line in open("/etc/os-release")
                          if line.startswith("PRETTY_NAME="))
        except (OSError, StopIteration):
            pass
        mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal:"))
        return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "os": pretty,
                "memory": f"{mem / 1024 / 1024:.0f} GiB"}

    def versions(self):
        def run(argv):
            try:
                return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT).stdout.strip()
            except OSError:
                return "?"

        pyv = run([str(self.ws.python), "-c", "import sys, boto3, botocore, ansible.release as r; "
                   "print(sys.version.split()[0], r.__version__, boto3.__version__, botocore.__version__)"]).split()
        moto_v = run([sys.executable, "-c", "import moto; print(moto.__version__)"])
        commit = run(["git", "rev-parse", "--short", "HEAD"])
        dirty = run(["git", "status", "--porcelain", "--untracked-files=no", "--", "crates", "Cargo.toml",
                     "Cargo.lock"])
        colls = self.ws.facts.get("collections", {})
        return (f"rustaws.creds {colls.get('rustaws.creds')} (commit {commit}{', crates modified' if dirty else ''}); "
                f"amazon.aws {colls.get('amazon.aws')}, community.aws {colls.get('community.aws')} "
                f"(the `ansible` package {self.opts.ansible_version}); ansible-core {pyv[1] if len(pyv) > 1 else '?'}, "
                f"Python {pyv[0] if pyv else '?'}, boto3 {pyv[2] if len(pyv) > 2 else '?'}, "
                f"botocore {pyv[3] if len(pyv) > 3 else '?'}; moto {moto_v}")

    def verdicts(self):
        return [(s, what, v) for s, what, _, _, _, _, v in self.rows if v]

    def text(self, started, finished, load0, load1):
        """The whole report, as printed and written to --out."""
        m = self.machine()
        header = [
            "# Benchmark: rustaws.creds against the Python modules",
            "",
            f"Written by `scripts/bench` on {started:%Y-%m-%d %H:%M} UTC ({(finished - started).seconds // 60} min).",
            "",
            f"- Machine: {m['nproc']} cores ({m['cpu']}), {m['memory']}, kernel {m['kernel']}, {m['os']}",
            f"- Load average (1 min) at start / end: {load0[0]:.2f} / {load1[0]:.2f}",
            f"- {self.versions()}",
            f"- Medians of {self.opts.runs} module runs and {self.opts.playbook_runs} playbook runs per side "
            f"(after {self.opts.warmup} and {self.opts.playbook_warmup} warm-up runs), the two sides alternating. "
            "moto on 127.0.0.1: over HTTP; over HTTPS served by moto itself (certificate from a private CA, "
            "given to the modules as `aws_ca_bundle`); and, for one module run, over HTTPS through "
            "bench/tls_front.py (an asyncio TLS front to moto's HTTP port), because moto's own TLS server "
            "answers each request many milliseconds later than over HTTP (the rows \"the server's answer\"), "
            "which a one-run figure would otherwise charge to the module.",
            "- One module run: the files ansible-core left on the host (ANSIBLE_KEEP_REMOTE_FILES=1), "
            "`python AnsiballZ_<module>.py` against `AnsiballZ_<module> args`; wall from spawn to exit and "
            "CPU (user + system) from direct runs, peak RSS from runs under /usr/bin/time (a child spawned from "
            "the Python harness would report the harness's RSS). The iam_access_key pair is a create, then the "
            "delete of that key. \"The server's answer\" is one STS request on a new connection from a Python "
            "client: what the server adds to every request of either side.",
            "- Playbook: `ansible-playbook` wall time, hosts: localhost, connection: local, no fact gathering; "
            "\"above the debug floor\" subtracts the 20 x debug playbook (ansible's own cost of a play of 20 tasks).",
            f"- Managed host over ssh: sshd on 127.0.0.2, a user with /bin/sh, moto over HTTP; per task = (wall of 10 "
            f"tasks - wall of 1) / 9, medians of {self.opts.remote_runs} runs after one warm-up; the shaped link is "
            "bench/shaped_link.py (a loopback relay with a bottleneck rate and a one-way delay per direction); the "
            "Python module is community.aws's with ANSIBLE_PIPELINING=True on Debian's python3.",
            f"- Fan-out: {FANOUT_ROLES} roles (any role ARN: moto accepts them) in one sts_assume_roles task, "
            f"in a loop of our sts_assume_role and in a loop of amazon.aws.sts_assume_role (`loop:` over the same "
            "play variable, `no_log: true`), and a one-task debug playbook (ansible-playbook's start-up floor); "
            "moto over HTTP, medians of the playbook runs, rotating order. \"ansible-playbook wall\" is the whole "
            "command; \"the task's duration\" is the part of it from the task's start to its result, by a "
            "callback's clock (fork, templating, action plugin, the module, the result); \"the executable "
            "alone\" is the module run as ansible-core runs it on the host, with an args file of the 100 roles "
            f"(medians of {self.opts.runs} runs), against 100 runs of sts_assume_role's executable one after "
            f"another; then the same through bench/shaped_link.py in front of moto ({FANOUT_DELAY[1]} ms each way), "
            "where concurrency can pay. \"The server's answer\" is moto's time for 100 AssumeRole requests from "
            "a Python client: what any client of this server waits.",
            "- IAM Identity Center (SSO): tests/support/fake_sso.py (SSO OIDC and the portal) on 127.0.0.1 "
            "and moto over HTTP for STS, a temporary HOME whose .aws/config has an [sso-session] and a "
            "profile using it, AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO at the stand-in, no keys "
            "in the environment; one module run as above (the files ansible-core left, medians of "
            f"{self.opts.runs} runs). sso_login with a valid cached token (no call) and with one near "
            "expiry (the cache rewritten before each run to expire within min_ttl; one refresh CreateToken) "
            "have no Python counterpart (amazon.aws has no sign-in module); aws_caller_info with the SSO "
            "profile reads the token cache, calls GetRoleCredentials, then STS, on both sides. The "
            "stand-in's recorded calls are checked after every run.",
            f"- Sections: {', '.join(self.opts.sections)}.",
        ]
        misses = [f"{s}: {what}" for s, what, v in self.verdicts() if v == "MISS"]
        summary = ["", "## Targets", ""]
        summary.append(f"{sum(1 for *_, v in self.verdicts() if v == 'PASS')} PASS, {len(misses)} MISS.")
        summary += [f"- MISS: {x}" for x in misses]
        text = "\n".join(header + summary) + "\n" + self.table() + "\n"
        return text
