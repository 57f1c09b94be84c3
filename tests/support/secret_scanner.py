"""The secret scan: every `subprocess.run` of `ansible`, `ansible-playbook` or the
module executable during the session goes through a recorder (``recording_subprocess_run``,
installed by conftest.py's `secret_recorder` fixture). It learns the secret values each run is
given and each result returns, keeps what the run printed and the files it wrote under the
session's temporary directory, and ``SecretRecorder.scan()`` finds every secret out of place.

The rule. A secret value (a secret key, a session token, an MFA code, a web-identity token,
given to a module or returned by one) may appear in what a run produced only as returned
credentials: `sts_creds.secret_key`, `sts_creds.session_token` or `secret_access_key` in a
result, outside `invocation`, and the `aws_secret_access_key` / `aws_session_token` lines of an
AWS credentials file a module wrote (output_profile). That is where a task without no_log shows
them on purpose (ansible censors the whole result of a no_log task, which test_secrets.py checks
strictly), and where the user asked for them to be written.
Anywhere else (msg, invocation, warnings, other keys, ansible's own log lines at any -v, files
a run leaves) a secret is a finding.

What counts as a secret, learnt from each run without the test's help:
- values of the modules' no_log options (aliases included) in the args file, the ad hoc `-a`
  arguments, or a playbook's literal task arguments;
- values of the no_log options' environment variables and of any variable whose name says
  secret/token/password/mfa_code, and of secret-looking `-e name=value` extra vars;
- the content of token files named by an option (a path option whose name says token or
  secret file), a variable or AWS_WEB_IDENTITY_TOKEN_FILE, and the secrets in the AWS
  config/credentials files used;
- credentials a result returns (the allowed places above), so that they are looked for
  everywhere else too.
ansible's quotes of a playbook's own source (the numbered lines after "Origin: FILE:LINE:COL"
in its warnings and errors) are taken out first: a value written into a playbook is in that
file already, and quoting it is ansible's doing, not a module's.
Values shorter than 8 characters are ignored, except six-digit MFA codes, which are matched
only as a whole number (not inside a longer run of digits or letters), with ansible's
temporary-directory names (random digits) taken out first. Tests can add values with the
`known_secret` fixture. The option names, aliases and variables come from the modules' spec
(tests/support/module_spec.py).
"""

import json
import os
import pathlib
import re
import shlex
import subprocess
import threading
import typing

import module_spec

# What ansible shows instead of the value of a no_log option.
PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

_SECRET_NAME = re.compile(r"secret|token|password|passwd|mfa_code|otp", re.I)
_NOT_SECRET_NAME = re.compile(r"file|path|dir|url|serial|arn|duration|expir|_id$|^ansible_", re.I)
_TOKEN_FILE_NAME = re.compile(r"(token|secret).*file|file.*(token|secret)", re.I)
_SOURCE_EXCERPT = re.compile(r"(Origin: [^\n]+:\d+:\d+\n\n)((?:[ \t]*\d+ [^\n]*\n)+)")
_ANSIBLE_TMP_NAMES = re.compile(r"ansible-(?:tmp|local)-[\w.\-]+|tmp[a-z0-9_]{8}|AnsiballZ_\w+")
ISSUED_PARENTS = {"sts_creds": ("secret_key", "session_token"),
                  "env": ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
ISSUED_KEYS = ("secret_access_key",)
# A credentials file's secret lines: where output_profile writes the credentials on purpose.
_WRITTEN_CREDENTIAL = re.compile(r"^([ \t]*(?:aws_secret_access_key|aws_session_token)[ \t]*[=:][ \t]*)(\S[^\r\n]*?)([ \t]*\r?)$",
                                 re.M)
WATCHED_PROGRAMS = ("ansible", "ansible-playbook")
MODULE_EXECUTABLE = "rustaws-creds"


def _secretish(name, no_log_options=frozenset()):
    name = str(name)
    if name.lower() in no_log_options:
        return True
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def _is_issued_path(path):
    if "invocation" in path or not path:
        return False
    if path[-1] in ISSUED_KEYS:
        return True
    return len(path) >= 2 and path[-1] in ISSUED_PARENTS.get(path[-2], ())


def _mask(secret):
    return f"{secret[:3]}…({len(secret)} characters)"


class Finding(typing.NamedTuple):
    where: str
    origin: str
    secret: str  # masked: the first characters and the length
    context: str  # the surroundings, with the secret masked


class SecretRecorder:
    """Everything the watched runs of this session were given, printed and wrote."""

    def __init__(self, basetemp):
        self.basetemp = pathlib.Path(basetemp).resolve()
        # From the modules' spec: the names and aliases of the no_log options, the path options
        # naming a token file, the environment variables of the no_log options.
        self.no_log_options = module_spec.no_log_names()
        self.token_file_options = frozenset(n for n in module_spec.path_names() if _TOKEN_FILE_NAME.search(n))
        self.secret_env = module_spec.secret_env()
        self.lock = threading.Lock()
        self.secrets = {}  # value -> origin
        self.outputs = []  # (where, text)
        self.files = {}  # path -> (where, text)
        self.runs = 0

    # --- learning secrets

    def _secretish(self, name):
        return _secretish(name, self.no_log_options)

    def add(self, value, origin):
        if isinstance(value, bool) or value is None:
            return
        text = str(value).strip()
        if "{{" in text or text == PLACEHOLDER or "\n" in text:
            return
        if len(text) < 8 and not (len(text) == 6 and text.isdigit()):
            return
        with self.lock:
            self.secrets.setdefault(text, origin)

    def _add_file(self, path, origin):
        try:
            p = pathlib.Path(str(path)).expanduser()
            if p.is_file() and p.stat().st_size < 65536:
                self.add(p.read_text(errors="replace"), origin)
        except OSError:
            pass

    def learn_options(self, options, origin):
        """No_log option values (and token files) anywhere in a structure of task arguments."""
        if isinstance(options, dict):
            for k, v in options.items():
                if str(k) in self.no_log_options and isinstance(v, (str, int)):
                    self.add(v, f"{origin}: option {k}")
                elif str(k) in self.token_file_options and isinstance(v, str):
                    self._add_file(v, f"{origin}: file of option {k}")
                elif self._secretish(k) and isinstance(v, (str, int)) and not isinstance(v, bool):
                    self.add(v, f"{origin}: {k}")
                else:
                    self.learn_options(v, origin)
        elif isinstance(options, list):
            for v in options:
                self.learn_options(v, origin)

    def learn_env(self, env, origin):
        for k, v in env.items():
            if k in self.secret_env or (self._secretish(k) and not k.startswith(("ANSIBLE_", "PYTEST_"))):
                self.add(v, f"{origin}: environment {k}")
        for k, v in env.items():
            if _TOKEN_FILE_NAME.search(k) and v:
                self._add_file(v, f"{origin}: file of environment {k}")
        for var in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            try:
                text = pathlib.Path(env.get(var, "")).read_text(errors="replace")
            except OSError:
                continue
            for line in text.splitlines():
                key, sep, value = line.partition("=")
                key = key.strip()
                if not sep:
                    continue
                if key in ("aws_secret_access_key", "aws_session_token"):
                    self.add(value, f"{origin}: {var} {key}")
                elif key == "web_identity_token_file":
                    self._add_file(value.strip(), f"{origin}: {var} {key}")

    def _learn_extra_vars(self, value, origin):
        if value.startswith("@"):
            return
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            self.learn_options(parsed, origin)
            return
        for item in shlex.split(value):
            k, sep, v = item.partition("=")
            if not sep:
                continue
            if _TOKEN_FILE_NAME.search(k):
                self._add_file(v, f"{origin}: file of extra var {k}")
            elif self._secretish(k):
                self.add(v, f"{origin}: extra var {k}")

    def learn_argv(self, argv, origin):
        program = os.path.basename(str(argv[0]))
        if program not in WATCHED_PROGRAMS:  # the module itself: its last argument is the args file
            if len(argv) > 1:
                try:
                    self.learn_options(json.loads(pathlib.Path(str(argv[-1])).read_text()), origin)
                except (OSError, ValueError):
                    pass
            return
        args = [str(a) for a in argv]
        for i, a in enumerate(args[:-1]):
            if a in ("-a", "--args"):
                value = args[i + 1]
                try:
                    self.learn_options(json.loads(value), origin)
                except ValueError:
                    kv = {}
                    for item in shlex.split(value):
                        k, sep, v = item.partition("=")
                        if sep:
                            kv[k] = v
                    self.learn_options(kv, origin)
            elif a in ("-e", "--extra-vars"):
                self._learn_extra_vars(args[i + 1], origin)
        if program == "ansible-playbook":
            import yaml  # ansible-core's dependency

            for a in args[1:]:
                if a.endswith((".yml", ".yaml")) and os.path.isfile(a):
                    try:
                        for doc in yaml.safe_load_all(pathlib.Path(a).read_text()):
                            self.learn_options(doc, f"{origin}: {os.path.basename(a)}")
                    except yaml.YAMLError:
                        pass

    # --- recording what runs produce

    def _walk_results(self, value, path, origin):
        """Learns the credentials a result returns; returns the value with them taken out."""
        if isinstance(value, dict):
            return {k: self._walk_results(v, path + (str(k),), origin) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk_results(v, path, origin) for v in value]
        if isinstance(value, str) and _is_issued_path(path):
            self.add(value, f"{origin}: returned {'.'.join(path[-2:])}")
            return "<returned credential>"
        return value

    def _without_returned_credentials(self, text, origin):
        """The text with every JSON object in it re-written without its returned credentials."""
        out, i, decoder = [], 0, json.JSONDecoder()
        while True:
            j = text.find("{", i)
            if j < 0:
                out.append(text[i:])
                return "".join(out)
            try:
                obj, end = decoder.raw_decode(text, j)
            except ValueError:
                out.append(text[i:j + 1])
                i = j + 1
                continue
            out.append(text[i:j])
            out.append(json.dumps(self._walk_results(obj, (), origin)))
            i = end

    def record_output(self, where, text):
        if not text:
            return
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        cleaned = self._without_returned_credentials(text, where)
        with self.lock:
            self.outputs.append((where, cleaned))

    def _inside_basetemp(self, path):
        try:
            return pathlib.Path(path).resolve().is_relative_to(self.basetemp)
        except (OSError, ValueError):
            return False

    def snapshot(self, dirs):
        state = {}
        for d in dirs:
            for root, _, names in os.walk(d):
                for n in names:
                    p = os.path.join(root, n)
                    try:
                        st = os.stat(p)
                    except OSError:
                        continue
                    state[p] = (st.st_mtime_ns, st.st_size)
        return state

    def record_files(self, where, before, after):
        for path, stamp in after.items():
            if before.get(path) == stamp:
                continue
            try:
                text = pathlib.Path(path).read_bytes()[:1 << 20].decode(errors="replace")
            except OSError:
                continue
            cleaned = self._without_returned_credentials(self._without_written_credentials(text, where), where)
            with self.lock:
                self.files[path] = (f"{where}: wrote {path}", cleaned)

    def _without_written_credentials(self, text, origin):
        """The text with the secret lines of a credentials file taken out (and their values
        learnt, so that they are looked for everywhere else)."""
        def taken(m):
            self.add(m.group(2), f"{origin}: written {m.group(1).split('=')[0].split(':')[0].strip()}")
            return f"{m.group(1)}<written credential>{m.group(3)}"
        return _WRITTEN_CREDENTIAL.sub(taken, text)

    def watched(self, argv):
        if not argv or isinstance(argv, (str, bytes)):
            return False
        first = str(argv[0])
        if os.path.basename(first) in WATCHED_PROGRAMS:
            return True
        try:
            return os.path.basename(os.path.realpath(first)) == MODULE_EXECUTABLE
        except OSError:
            return False

    def watched_dirs(self, argv, kwargs):
        env = kwargs.get("env") or os.environ
        candidates = [kwargs.get("cwd"), env.get("ANSIBLE_LOCAL_TEMP"), env.get("ANSIBLE_REMOTE_TMP")]
        if len(argv) > 1 and os.path.isfile(str(argv[-1])):
            candidates.append(os.path.dirname(str(argv[-1])))
        dirs = []
        for c in candidates:
            if c and self._inside_basetemp(c) and os.path.isdir(c):
                dirs.append(str(pathlib.Path(c).resolve()))
        return sorted(set(dirs))

    # --- the scan

    def mark(self):
        """A point in the recording, for scan(since=...)."""
        with self.lock:
            return (len(self.outputs), set(self.files))

    def forget(self, since):
        """Drops what was recorded after the mark `since` (for tests that leak on purpose)."""
        with self.lock:
            del self.outputs[since[0]:]
            for path in set(self.files) - since[1]:
                del self.files[path]

    def scan(self, since=None):
        """Every place a known secret appears outside the places it belongs (only what was
        recorded after the mark `since`, if given)."""
        with self.lock:
            secrets = dict(self.secrets)
            outputs = self.outputs[since[0]:] if since else list(self.outputs)
            files = [v for k, v in self.files.items() if not since or k not in since[1]]
            places = outputs + files
        # A six-digit MFA code counts only as a whole word; any other secret wherever it appears
        # (str.find: one regular expression per secret, thousands of them, would be recompiled
        # for every place once they overflow re's cache).
        codes = {secret: re.compile(rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])")
                 for secret in secrets if len(secret) == 6 and secret.isdigit()}
        findings = []
        for where, text in places:
            scrubbed = _ANSIBLE_TMP_NAMES.sub("", _SOURCE_EXCERPT.sub(r"\1", text))
            for secret, origin in secrets.items():
                if secret in codes:
                    m = codes[secret].search(scrubbed)
                    hits = [m.start()] if m else []
                else:
                    at = scrubbed.find(secret)
                    hits = [at] if at >= 0 else []
                for at in hits:
                    context = scrubbed[max(0, at - 60):at + len(secret) + 60]
                    for other in sorted(secrets, key=len, reverse=True):  # never show any secret
                        context = context.replace(other, "<SECRET>")
                    findings.append(Finding(where, origin, _mask(secret), context))
        return findings


def recording_subprocess_run(recorder, real_run=subprocess.run):
    """A stand-in for subprocess.run that routes every watched run through `recorder`."""

    def recording_run(*popenargs, **kwargs):
        argv = popenargs[0] if popenargs else kwargs.get("args")
        if not recorder.watched(argv):
            return real_run(*popenargs, **kwargs)
        argv = [str(a) for a in argv]
        where = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv[:3]))
        env = kwargs.get("env") or os.environ
        recorder.learn_env(env, where)
        recorder.learn_argv(argv, where)
        dirs = recorder.watched_dirs(argv, kwargs)
        before = recorder.snapshot(dirs)
        with recorder.lock:
            recorder.runs += 1
        try:
            proc = real_run(*popenargs, **kwargs)
        except subprocess.TimeoutExpired as e:
            recorder.record_output(f"{where} (timed out)", e.stdout)
            recorder.record_output(f"{where} (timed out, stderr)", e.stderr)
            raise
        finally:
            recorder.record_files(where, before, recorder.snapshot(dirs))
        recorder.record_output(where, proc.stdout)
        recorder.record_output(f"{where} (stderr)", proc.stderr)
        return proc

    return recording_run
