"""Section 4 of the benchmark: sts_session_token on a managed host over ssh (tests/support/
ssh_host.py's sshd on 127.0.0.2), directly and through bench/shaped_link.py; our cache, Ansible's
standard binary-module path and the pipelined Python module."""

import glob
import json
import shutil
import sys

from common import MODULES, Part, Run, fmt_time, log, median
from moto_server import TEST_ACCESS_KEY, TEST_SECRET_KEY
from servers import ShapedLink

# The shaped link of the remote-host rows: (label, (Mbit/s, one-way delay ms) or None).
LINKS = (("no shaping", None), ("20 Mbit/s, 25 ms each way", (20, 25)))
CACHE = ".ansible/tmp/rustaws-creds"


class Remote(Part):
    """4. A managed host over ssh."""

    def run(self, endpoint):
        """sts_session_token on a managed host reached over ssh: tests/support/ssh_host.py's sshd
        on 127.0.0.2 with an unprivileged user whose shell is /bin/sh, reached directly and through
        bench/shaped_link.py. Per task = (wall of 10 tasks - wall of 1 task) / 9, so ansible's
        start-up, the inventory and the ssh connection cancel out; ControlPersist keeps the
        connection between runs, as ansible's defaults do."""
        from ssh_host import SshHost

        with SshHost(self.ws.work / "ssh-host") as host:
            for label, shape in LINKS:
                log(f"managed host over ssh, {label}: {self.opts.remote_runs} runs of each variant")
                with ShapedLink(host, shape) as (address, port):
                    self.remote_link(host, address, port, label, shape, endpoint)

    def remote_variants(self):
        """name -> (FQCN, extra environment, extra inventory variables)."""
        ours, theirs, _ = MODULES["sts_session_token"]
        return {
            "ours": (ours, {}, {}),
            "ours-standard": (ours, {"RUSTAWS_CREDS_DELIVERY": "standard"}, {}),
            # The Python module on the host: Debian's python3 with the bench virtualenv's boto3.
            "theirs-pipelined": (theirs, {"ANSIBLE_PIPELINING": "True"},
                                 {"ansible_python_interpreter": "/usr/bin/python3"}),
        }

    def remote_books(self, endpoint):
        _, _, args = MODULES["sts_session_token"]
        args = {**args, **endpoint.common_args(), "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
        site = glob.glob(str(self.ws.bench_bin.parent / "lib/python3*/site-packages"))[0]
        books = {}
        for name, (fqcn, _, _) in self.remote_variants().items():
            for n in (1, 10):
                play = {"hosts": "remote", "gather_facts": False,
                        "tasks": [{"name": f"task {i}", fqcn: args} for i in range(1, n + 1)]}
                if name.startswith("theirs"):
                    play["environment"] = {"PYTHONPATH": site}
                path = self.ws.work / f"remote-{name}-{n}.yml"
                path.write_text(json.dumps([play], indent=1))
                books[name, n] = path
        return books

    def remote_link(self, host, address, port, label, shape, endpoint):
        books = self.remote_books(endpoint)
        variants = self.remote_variants()
        inventories = {}
        for name, (_, _, inv_vars) in variants.items():
            path = self.ws.work / f"remote-{name}.ini"
            path.write_text(host.inventory_line("remote", ansible_host=address, ansible_port=port, **inv_vars) + "\n")
            inventories[name] = path

        def run(name, n):
            env = self.ws.env(ANSIBLE_REMOTE_TMP="~/.ansible/tmp", **variants[name][1])
            r = Run([str(self.ws.bench_bin / "ansible-playbook"), "-i", str(inventories[name]),
                     str(books[name, n])], env, self.ws.work)
            if r.rc != 0 or "failed=0" not in r.output or f"changed={n} " not in r.output:
                sys.exit(f"{books[name, n].name} over {label} failed (exit {r.rc}):\n{r.output[-3000:]}")
            return r.wall

        per_task = {name: [] for name in variants}
        first = []
        order = list(variants)
        for i in range(1 + self.opts.remote_runs):
            for name in order[i % len(order):] + order[:i % len(order)]:
                one, ten = run(name, 1), run(name, 10)
                if i:
                    per_task[name].append((ten - one) / 9)
            shutil.rmtree(host.path(CACHE), ignore_errors=True)
            cold = run("ours", 1)
            if i:
                first.append(cold - run("ours", 1))
        section = f"Managed host over ssh, {label}: sts_session_token"
        ours, standard, theirs = (median(per_task[n]) for n in ("ours", "ours-standard", "theirs-pipelined"))
        shaped = shape is not None
        self.row(section, "per task: the executable cached on the host, one ssh exec (against the pipelined "
                 "Python module)", fmt_time(ours), fmt_time(theirs), theirs / ours, "remote_ratio" if shaped else None)
        if shaped:
            self.row(section, "per task: the executable cached on the host", fmt_time(ours), "", None,
                     "remote_task_s", value=ours)
        self.row(section, "per task: Ansible's standard binary-module path (rustaws_creds_delivery=standard)",
                 fmt_time(standard), fmt_time(theirs), theirs / standard, None)
        self.row(section, "the first task on a new host: the one upload, beyond a task's own time",
                 fmt_time(median(first)), "", None, None)
