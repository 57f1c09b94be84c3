"""Section 3 of the benchmark, the fan-out: 100 roles in one sts_assume_roles task against a loop
of 100 sts_assume_role tasks (ours and amazon.aws's), through ansible-playbook and as the
executable alone, also with a network delay in front of moto."""

import json
import sys
import types

from common import FANOUT_CONCURRENCY, FANOUT_DELAY, FANOUT_ROLES, MODULES, Part, Run, fmt_time, log, median
from servers import Endpoint, ShapedLink

# A callback that writes each task's duration (its start to its result, loops included) as JSON
# to $BENCH_TASK_TIMES: the task's share of an ansible-playbook run.
TASK_TIMER = '''
import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_task_time"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.started, self.took = {}, {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.started[task._uuid] = time.perf_counter()

    def done(self, result):
        task = result._task
        self.took[task.get_name()] = time.perf_counter() - self.started[task._uuid]

    def v2_runner_on_ok(self, result):
        self.done(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.done(result)

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["BENCH_TASK_TIMES"], "w") as f:
            json.dump(self.took, f)
'''


class Fanout(Part):
    """3. Many roles in one task."""

    def fanout_roles(self):
        return [{"name": f"bench-{i:03d}", "role_arn": f"arn:aws:iam::123456789012:role/bench-{i:03d}"}
                for i in range(FANOUT_ROLES)]

    def fanout_books(self, endpoint):
        """name -> playbook: the 100 roles (play variables) in one sts_assume_roles task, in a loop
        of our sts_assume_role and of amazon.aws's; and one debug task, ansible-playbook's floor."""
        common = endpoint.common_args()
        each = {"role_arn": "{{ item.role_arn }}", "role_session_name": "bench", **common}
        tasks = {
            "one-task": {"name": "100 roles in one task",
                         "rustaws.creds.sts_assume_roles": {"roles": "{{ bench_roles }}",
                                                            "role_session_name": "bench", **common},
                         "no_log": True},
            "ours-loop": {"name": "100 roles, one sts_assume_role each",
                          "rustaws.creds.sts_assume_role": each, "loop": "{{ bench_roles }}", "no_log": True},
            "theirs-loop": {"name": "100 roles, one sts_assume_role each",
                            "amazon.aws.sts_assume_role": each, "loop": "{{ bench_roles }}", "no_log": True},
            "debug": {"name": "ansible-playbook's floor", "ansible.builtin.debug": {"msg": "noop"}},
        }
        books = {}
        for name, task in tasks.items():
            play = {"hosts": "localhost", "gather_facts": False, "vars": {"bench_roles": self.fanout_roles()},
                    "tasks": [task]}
            path = self.ws.work / f"fanout-{endpoint.name}-{name}.yml"
            path.write_text(json.dumps([play], indent=1))
            books[name] = (path, task["name"])
        return books

    def fanout_playbook(self, name, path, task_name):
        """One run: (ansible-playbook wall, the task's duration)."""
        times = self.ws.work / "task-times.json"
        times.unlink(missing_ok=True)
        env = self.ws.env(ANSIBLE_CALLBACK_PLUGINS=str(self.ws.work / "callback_plugins"),
                          ANSIBLE_CALLBACKS_ENABLED="bench_task_time", BENCH_TASK_TIMES=str(times))
        r = Run([str(self.ws.bench_bin / "ansible-playbook"), str(path)], env, self.ws.work)
        want = "ok=1 " if name == "debug" else "changed=1 "
        if r.rc != 0 or "failed=0" not in r.output or want not in r.output:
            sys.exit(f"{path.name} failed (exit {r.rc}):\n{r.output[-3000:]}")
        return r.wall, json.loads(times.read_text())[task_name]

    def fanout_module_runs(self, endpoint):
        """The executable alone: one sts_assume_roles run with 100 roles (per max_concurrency),
        and 100 runs of sts_assume_role's one after another; (wall, CPU) medians."""
        ours = "rustaws.creds.sts_assume_roles"
        argvs = {}
        for width in FANOUT_CONCURRENCY:
            kept = self.ws.capture(endpoint, f"fanout-c{width}", ours,
                                   {"roles": self.fanout_roles(), "role_session_name": "bench",
                                    "max_concurrency": width})
            argvs[width] = [str(kept / "AnsiballZ_sts_assume_roles"), str(kept / "args")]
        kept = self.ws.capture(endpoint, "fanout-single", "rustaws.creds.sts_assume_role",
                               MODULES["sts_assume_role"][2])
        single = [str(kept / "AnsiballZ_sts_assume_role"), str(kept / "args")]
        env = self.ws.env()
        timed = {w: [] for w in (*FANOUT_CONCURRENCY, "loop")}
        for i in range(self.opts.warmup + self.opts.runs):
            for width, argv in argvs.items():
                r = Run(argv, env, self.ws.work)
                result = self.ws.check(r, f"{ours} with 100 roles, max_concurrency {width}", "roles")
                if len(result["roles"]) != FANOUT_ROLES or result["failed_roles"]:
                    sys.exit(f"{ours}: {len(result['roles'])} roles, failed: {result['failed_roles']}")
                if i >= self.opts.warmup:
                    timed[width].append((r.wall, r.cpu))
            wall = cpu = 0.0
            for _ in range(FANOUT_ROLES):
                r = Run(single, env, self.ws.work)
                self.ws.check(r, "rustaws.creds.sts_assume_role (fan-out comparison)", "sts_creds")
                wall, cpu = wall + r.wall, cpu + r.cpu
            if i >= self.opts.warmup:
                timed["loop"].append((wall, cpu))
        return {k: (median([w for w, _ in v]), median([c for _, c in v])) for k, v in timed.items()}

    def run(self, endpoint):
        cb = self.ws.work / "callback_plugins"
        cb.mkdir(exist_ok=True)
        (cb / "bench_task_time.py").write_text(TASK_TIMER)
        books = self.fanout_books(endpoint)
        order = list(books)
        walls = {name: [] for name in order}
        tasks = {name: [] for name in order}
        for i in range(self.opts.playbook_warmup + self.opts.playbook_runs):
            for name in order[i % len(order):] + order[:i % len(order)]:
                wall, took = self.fanout_playbook(name, *books[name])
                if i >= self.opts.playbook_warmup:
                    walls[name].append(wall)
                    tasks[name].append(took)
        log(f"fan-out over {endpoint.label}: the executable alone, {self.opts.runs} runs")
        module = self.fanout_module_runs(endpoint)

        section = f"Fan-out: {FANOUT_ROLES} roles, {endpoint.label}"
        w = {name: median(v) for name, v in walls.items()}
        t = {name: median(v) for name, v in tasks.items()}
        one, loop, theirs = "one-task", "ours-loop", "theirs-loop"
        self.row(section, "ansible-playbook wall: one sts_assume_roles task (against amazon.aws's loop)",
                 fmt_time(w[one]), fmt_time(w[theirs]), w[theirs] / w[one], None)
        self.row(section, "ansible-playbook wall: a loop of 100 sts_assume_role tasks",
                 fmt_time(w[loop]), fmt_time(w[theirs]), w[theirs] / w[loop], None)
        self.row(section, "ansible-playbook wall: our loop / one sts_assume_roles task",
                 f"{fmt_time(w[loop])} / {fmt_time(w[one])}", "", w[loop] / w[one], "fanout_ratio")
        self.row(section, "ansible-playbook wall: one sts_assume_roles task", fmt_time(w[one]), "", None,
                 "fanout_wall_s", value=w[one])
        self.row(section, "ansible-playbook wall: one ansible.builtin.debug task (start-up floor, no module)",
                 fmt_time(w["debug"]), "", None, None)
        self.row(section, "the task's duration (callback): one sts_assume_roles task (against amazon.aws's loop)",
                 fmt_time(t[one]), fmt_time(t[theirs]), t[theirs] / t[one], None)
        self.row(section, "the task's duration (callback): a loop of 100 sts_assume_role tasks",
                 fmt_time(t[loop]), fmt_time(t[theirs]), t[theirs] / t[loop], None)
        self.row(section, "the task's duration (callback): our loop / one sts_assume_roles task",
                 f"{fmt_time(t[loop])} / {fmt_time(t[one])}", "", t[loop] / t[one], None)
        self.row(section, "the task's duration (callback): one debug task", fmt_time(t["debug"]), "", None, None)
        for width in (1, 8):
            at = "one after another" if width == 1 else f"{width} at a time"
            self.row(section, f"the server's answer to 100 AssumeRole requests (new connections, from a Python "
                     f"client), {at}", fmt_time(endpoint.assume_role_time(FANOUT_ROLES, width)), "(same server)",
                     None, None)
        self.fanout_module_rows(section, "the executable alone", module)
        # The same runs with a network delay between module and moto, where concurrency pays.
        rate, delay = FANOUT_DELAY
        upstream = types.SimpleNamespace(address="127.0.0.1", port=int(endpoint.url.rsplit(":", 1)[1]))
        with ShapedLink(upstream, FANOUT_DELAY) as (address, port):
            slow = Endpoint(f"{endpoint.name}-delayed", f"http://{address}:{port}")
            log(f"fan-out, {delay} ms each way: the executable alone, {self.opts.runs} runs")
            delayed = self.fanout_module_runs(slow)
        self.fanout_module_rows(section, f"the executable alone, {delay} ms each way to moto", delayed)
        self.ws.facts["fanout"] = {"walls": w, "tasks": t, "module": module, "delayed": delayed}

    def fanout_module_rows(self, section, label, module):
        ow = module[FANOUT_CONCURRENCY[0]][0]
        for width in FANOUT_CONCURRENCY:
            mw, mc = module[width]
            default = " (default)" if width == FANOUT_CONCURRENCY[0] else ""
            self.row(section, f"{label}: one sts_assume_roles run, max_concurrency {width}{default}: wall; CPU",
                     f"{fmt_time(mw)}; {fmt_time(mc)}", "", None, None)
        lw, lc = module["loop"]
        self.row(section, f"{label}: 100 sts_assume_role runs one after another: wall; CPU (ratio: against one "
                 "sts_assume_roles run, max_concurrency 8)", f"{fmt_time(lw)}; {fmt_time(lc)}", "", lw / ow, None)
