"""Sections 1, 2 and 5 of the benchmark: one module run (the files ansible-core left on the host,
run again), a playbook of 20 tasks (connection: local), and the sizes of the shipped files."""

import json
import os
import pathlib
import sys

from common import IAM_USER, MODULES, MiB, Part, Run, fmt_mib, fmt_time, median


class SingleRuns(Part):
    """1. One module run of each module, both sides, alternating."""

    def run(self, endpoint):
        kept = {}
        for key, (ours, theirs, _) in MODULES.items():
            for fqcn in (ours, theirs):
                kept[key, fqcn] = self.ws.capture(endpoint, key, fqcn)
        endpoint.delete_keys()
        env = self.ws.env()
        runs, warm = self.opts.runs, self.opts.warmup
        for key in ("sts_session_token", "sts_assume_role"):
            ours, theirs, _ = MODULES[key]
            timed = {ours: [], theirs: []}
            rss = {ours: [], theirs: []}
            for i in range(warm + runs):
                for fqcn in (ours, theirs):
                    argv = self.ws.command(kept[key, fqcn], key, fqcn)
                    t = Run(argv, env, self.ws.work)
                    self.ws.check(t, f"{fqcn} over {endpoint.name}", "sts_creds")
                    m = Run(argv, env, self.ws.work, rss=True)
                    self.ws.check(m, f"{fqcn} over {endpoint.name} (under time)", "sts_creds")
                    if i >= warm:
                        timed[fqcn].append((t.wall, t.cpu))
                        rss[fqcn].append(m.rss)
            self.add_single(endpoint, key, timed[ours], timed[theirs], rss[ours], rss[theirs])
        ours, theirs, _ = MODULES["iam_access_key:create"]
        timed = {ours: [], theirs: []}
        rss = {ours: [], theirs: []}
        for i in range(warm + runs):
            for fqcn in (ours, theirs):
                t = self.iam_pair(kept, fqcn, endpoint, env, rss=False)
                m = self.iam_pair(kept, fqcn, endpoint, env, rss=True)
                if i >= warm:
                    timed[fqcn].append((t[0].wall + t[1].wall, t[0].cpu + t[1].cpu))
                    rss[fqcn].append(max(m[0].rss, m[1].rss))
        self.add_single(endpoint, "iam_access_key create+delete", timed[ours], timed[theirs], rss[ours], rss[theirs])
        self.ws.facts.setdefault("wrapper_bytes", {})
        for key, (ours, theirs, _) in MODULES.items():
            name = ours.rsplit(".", 1)[1]
            self.ws.facts["wrapper_bytes"][theirs] = (kept[key, theirs] / f"AnsiballZ_{name}.py").stat().st_size
            self.ws.facts["wrapper_bytes"][ours] = (kept[key, ours] / f"AnsiballZ_{name}").stat().st_size

    def iam_pair(self, kept, fqcn, endpoint, env, rss):
        """Creates a key, then deletes it; returns the two runs."""
        what = f"{fqcn} over {endpoint.name}{' (under time)' if rss else ''}"
        argv = self.ws.command(kept["iam_access_key:create", fqcn], "iam_access_key:create", fqcn)
        c = Run(argv, env, self.ws.work, rss)
        key_id = self.ws.check(c, f"{what}: create", "access_key_id")["access_key_id"]
        argv = self.ws.command(kept["iam_access_key:delete", fqcn], "iam_access_key:delete", fqcn, key_id)
        d = Run(argv, env, self.ws.work, rss)
        if not self.ws.check(d, f"{what}: delete", None).get("changed"):
            sys.exit(f"{what}: the delete of {key_id} did not delete it")
        return c, d

    def add_single(self, endpoint, key, ours, theirs, ours_rss, theirs_rss):
        section = f"One module run, {endpoint.label}"
        ow, tw = median([w for w, _ in ours]), median([w for w, _ in theirs])
        self.row(section, f"{key}: wall", fmt_time(ow), fmt_time(tw), tw / ow, "run_ratio")
        oc, tc = median([c for _, c in ours]), median([c for _, c in theirs])
        self.row(section, f"{key}: CPU (user + system)", fmt_time(oc), fmt_time(tc), tc / oc, None)
        self.rss_row(section, key, ours_rss, theirs_rss)

    def rss_row(self, section, key, ours, theirs):
        # The target is checked against the largest run, not the median.
        self.row(section, f"{key}: peak RSS (median; max)",
                 f"{fmt_mib(median(ours))}; {fmt_mib(max(ours))}",
                 f"{fmt_mib(median(theirs))}; {fmt_mib(max(theirs))}", None, "rss_mib", value=max(ours) / MiB)


class Playbooks(Part):
    """2. A playbook of 20 tasks of each module, beside 20 debug and 20 ping tasks."""

    def write_playbooks(self, endpoint):
        common = endpoint.common_args()
        books = {}

        def book(name, tasks):
            path = self.ws.work / f"{endpoint.name}-{name}.yml"
            play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
            path.write_text(json.dumps(play, indent=1))  # JSON is YAML
            books[name] = path

        for key in ("sts_session_token", "sts_assume_role"):
            ours, theirs, args = MODULES[key]
            for side, fqcn in (("ours", ours), ("theirs", theirs)):
                book(f"{key}-{side}", [{"name": f"{key} {i}", fqcn: {**args, **common}} for i in range(1, 21)])
        ours, theirs, _ = MODULES["iam_access_key:create"]
        for side, fqcn in (("ours", ours), ("theirs", theirs)):
            tasks = []
            for i in range(1, 11):
                tasks.append({"name": f"create {i}", fqcn: {"user_name": IAM_USER, "state": "present", **common},
                              "register": f"key{i}"})
                tasks.append({"name": f"delete {i}", fqcn: {"user_name": IAM_USER, "state": "absent",
                                                            "id": f"{{{{ key{i}.access_key_id }}}}", **common}})
            book(f"iam_access_key-{side}", tasks)
        book("noop", [{"name": f"noop {i}", "ansible.builtin.debug": {"msg": "noop"}} for i in range(1, 21)])
        book("ping", [{"name": f"ping {i}", "ansible.builtin.ping": {}} for i in range(1, 21)])
        return books

    def playbook(self, path, endpoint):
        r = Run([str(self.ws.bench_bin / "ansible-playbook"), str(path)], self.ws.env(), self.ws.work)
        ok = r.rc == 0 and "failed=0" in r.output and ("ok=20 " in r.output or "changed=20 " in r.output)
        if not ok:
            sys.exit(f"{path.name} over {endpoint.name} failed (exit {r.rc}):\n{r.output[-3000:]}")
        return r

    def run(self, endpoint):
        books = self.write_playbooks(endpoint)
        order = list(books)
        samples = {name: [] for name in order}
        endpoint.delete_keys()
        for i in range(self.opts.playbook_warmup + self.opts.playbook_runs):
            for name in order:
                r = self.playbook(books[name], endpoint)
                if i >= self.opts.playbook_warmup:
                    samples[name].append(r.wall)
        section = f"Playbook of 20 tasks, {endpoint.label}"
        noop, ping = median(samples["noop"]), median(samples["ping"])
        for key in ("sts_session_token", "sts_assume_role", "iam_access_key"):
            o, t = median(samples[f"{key}-ours"]), median(samples[f"{key}-theirs"])
            label = key if key != "iam_access_key" else "iam_access_key (10 create+delete pairs)"
            self.row(section, f"{label}: wall", fmt_time(o), fmt_time(t), t / o, "playbook_ratio")
            if key != "iam_access_key":  # 20 module runs, as many as the debug playbook's tasks
                self.row(section, f"{label}: wall / the debug playbook's", f"{o / noop:.2f}x", f"{t / noop:.2f}x",
                         None, "debug_ratio", value=o / noop)
            net = (t - noop) / (o - noop) if o > noop else float("inf")
            self.row(section, f"{label}: above the debug floor", fmt_time(o - noop), fmt_time(t - noop), net, None)
        self.row(section, "20 x ansible.builtin.debug (floor: no module runs)", fmt_time(noop), "", None, None)
        self.row(section, "20 x ansible.builtin.ping (smallest Python module)", "", fmt_time(ping), None, None)


class Sizes(Part):
    """5. The shipped executables, the Galaxy tarball and the file sent per task."""

    def run(self):
        section = "Size"
        libexec = self.ws.work / "collections/ansible_collections/rustaws/creds/libexec"
        exe = pathlib.Path(os.path.realpath(libexec.parent / "plugins/modules/sts_session_token"))
        n = exe.stat().st_size
        self.row(section, f"module file (the one executable behind all eight modules), {exe.parent.name}",
                 fmt_mib(n), "", None, "module_mib", value=n / MiB)
        # The other platforms' builds: only their sizes. Nothing here times a build this machine
        # can only emulate (Linux-aarch64 under qemu-user) or cannot run (macOS).
        for build in sorted(libexec.glob("*/rustaws-creds")):
            if build != exe:
                self.row(section, f"module file, {build.parent.name} (size only)", fmt_mib(build.stat().st_size),
                         "", None, None)
        n = pathlib.Path(self.opts.tarball).stat().st_size
        self.row(section, "Galaxy tarball", fmt_mib(n), "", None, "tarball_mib", value=n / MiB)
        wb = self.ws.facts.get("wrapper_bytes", {})
        if wb:
            self.row(section, "file sent per task: sts_assume_role (AnsiballZ wrapper for Python)",
                     fmt_mib(wb["rustaws.creds.sts_assume_role"]), fmt_mib(wb["amazon.aws.sts_assume_role"]),
                     None, None)
