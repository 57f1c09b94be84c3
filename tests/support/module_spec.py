"""The modules' argument specs as the built executable prints them (`rustaws-creds --print-spec`):
the one source of the option names, aliases, environment variables and no_log flags the tests
use, so that no test keeps a table of its own.

``load()`` unpacks the executable from the collection tarball named by COLLECTION_TARBALL (once
per process; parametrize needs the data at collection time, before any fixture), runs it and
returns the JSON: ``{"collection": ..., "modules": {name: {"options": {...}, ...}}}``, where an
option has ``aliases`` (current ones) and ``deprecated_aliases`` apart, ``env`` (every variable,
in order, deprecated ones included) and ``deprecated_env`` (the deprecated ones among them),
``no_log``, ``fragment`` (the documentation fragment of a shared option, null for a module's own)
and ``common`` (one of the options every module takes: fragment ``common``).
"""

import functools
import json
import os
import subprocess
import tarfile
import tempfile

EXECUTABLE = "libexec/Linux-x86_64/rustaws-creds"


def print_spec(executable):
    """The JSON `executable --print-spec` prints."""
    proc = subprocess.run([str(executable), "--print-spec"], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    if proc.returncode != 0 or proc.stderr:
        raise RuntimeError(f"{executable} --print-spec exited {proc.returncode}: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


@functools.lru_cache(maxsize=None)
def _load(tarball):
    with tarfile.open(tarball) as tar, tempfile.TemporaryDirectory(prefix="rustaws-spec-") as d:
        member = tar.getmember(EXECUTABLE)
        path = os.path.join(d, "rustaws-creds")
        with tar.extractfile(member) as src, open(path, "wb") as dst:
            dst.write(src.read())
        os.chmod(path, 0o755)
        return print_spec(path)


def load():
    tarball = os.environ.get("COLLECTION_TARBALL")
    if not tarball or not os.path.isfile(tarball):
        raise RuntimeError(
            f"COLLECTION_TARBALL={tarball!r} is not a collection tarball. Run the suite through "
            "scripts/test, or build with scripts/build and set COLLECTION_TARBALL to the tarball it prints.")
    return _load(os.path.abspath(tarball))


def modules():
    return load()["modules"]


def options(module):
    return modules()[module]["options"]


def common_options():
    """The common options (as every module has them: test_spec.py checks they agree)."""
    first = next(iter(modules().values()))
    return {name: o for name, o in first["options"].items() if o["common"]}


def fragments():
    """The documentation fragments the spec names (an option's ``fragment``: ``common`` for the
    common options, another name for a set some modules share), sorted."""
    return sorted({o["fragment"] for m in modules().values() for o in m["options"].values() if o["fragment"]})


def fragment_options(fragment):
    """The options a documentation fragment documents (as the first module that takes them has
    them: test_spec.py checks that every module taking them has them alike)."""
    for m in modules().values():
        opts = {name: o for name, o in m["options"].items() if o["fragment"] == fragment}
        if opts:
            return opts
    raise KeyError(f"no module takes options of the fragment {fragment!r}")


def all_names(opts):
    """Every name and alias of a mapping of options."""
    return {n for name, o in opts.items() for n in (name, *o["aliases"], *o["deprecated_aliases"])}


def no_log_names():
    """The names and aliases of every no_log option of every module."""
    return frozenset(n for m in modules().values() for n in all_names(
        {name: o for name, o in m["options"].items() if o["no_log"]}))


def secret_env():
    """The environment variables of every no_log option of every module."""
    return frozenset(v for m in modules().values() for o in m["options"].values() if o["no_log"] for v in o["env"])


def all_env():
    """Every environment variable any option of any module reads."""
    return frozenset(v for m in modules().values() for o in m["options"].values() for v in o["env"])


def path_names():
    """The names and aliases of every option of type path, of every module."""
    return frozenset(n for m in modules().values() for n in all_names(
        {name: o for name, o in m["options"].items() if o["type"] == "path"}))


def aliases(opts):
    """(alias, option, deprecated) for every alias of a mapping of options, in spec order."""
    return [(a, name, a in o["deprecated_aliases"])
            for name, o in opts.items() for a in (*o["aliases"], *o["deprecated_aliases"])]


def env_vars(opts):
    """(variable, option, deprecated) for every environment variable of a mapping of options."""
    return [(v, name, v in o["deprecated_env"]) for name, o in opts.items() for v in o["env"]]


def supported_parameters(module):
    """AnsibleModule's list for an unknown option: `<names> (<aliases>)`, each sorted."""
    opts = options(module)
    alias_names = sorted(a for o in opts.values() for a in (*o["aliases"], *o["deprecated_aliases"]))
    return f"Supported parameters include: {', '.join(sorted(opts))} ({', '.join(alias_names)})."
