"""The modules' specs, their documentation and the collection's tables agree: one source, the spec
the built executable prints (`rustaws-creds --print-spec`), and everything else checked against it.

- each option against the documentation the spec names for it (its `fragment`): a module's own
  options (fragment null) against its sidecar (plugins/modules/<module>.yml, DOCUMENTATION),
  shared ones against their documentation fragment, plugins/doc_fragments/<fragment>.py (the
  common options: common.py; the STS modules' output options: output_profile.py), which the
  sidecar's extends_documentation_fragment lists: names, aliases (the docs list the deprecated
  ones among them and say "The alias O(x) is deprecated." / "The aliases O(x), O(y) and O(z) are
  deprecated."), type, elements, choices, default, required, no_log (the docs say "Kept out of
  logs and results."), the environment variables ("When not set, the first present of E(A),
  E(B) (deprecated) is used.", in order), check mode (full, partial: only with the option the
  spec's check_mode_requires names, none), and the rules the docs state ("Required when
  O(key=value).", "Exactly one of O(a) and O(b).", "Requires O(a)." for required_by);
- the set of modules: sidecars, executables, meta/runtime.yml's action group and routing;
- the names the peer modules take, which must stay (the compatibility promise);
- fuzz/args_file.dict holds every option name, alias and variable of sts_session_token.

Docs, runtime.yml and the executable are read from the installed collection, so they are the
ones that ship together. Where the docs disagree with the spec today, the assertion is marked
xfail(strict=True) with the disagreement as its reason (DISAGREEMENTS): the suite stays green
and turns red once the docs are fixed, when the mark must go.
"""

import ast
import functools
import pathlib
import re

import module_spec
import pytest
import yaml  # ansible-core's dependency

ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTION = "ansible_collections/rustaws/creds"

SPEC = module_spec.load()
MODULES = sorted(SPEC["modules"])
COMMON = module_spec.common_options()
# The documentation fragments the spec names, and the options each documents.
FRAGMENTS = {name: module_spec.fragment_options(name) for name in module_spec.fragments()}

# The names the peers (amazon.aws's common options and modules, community.aws.sts_session_token)
# take, which playbooks written for them use: each must stay an option, an alias (deprecated or
# not) or, in the same order, an environment variable of the option.
PEER_COMMON = {
    "access_key": (["aws_access_key_id", "aws_access_key", "ec2_access_key"],
                   ["AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "EC2_ACCESS_KEY"]),
    "secret_key": (["aws_secret_access_key", "aws_secret_key", "ec2_secret_key"],
                   ["AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "EC2_SECRET_KEY"]),
    "session_token": (["aws_session_token", "security_token", "aws_security_token", "access_token"],
                      ["AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "EC2_SECURITY_TOKEN"]),
    "profile": (["aws_profile", "boto_profile"], ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]),
    "endpoint_url": (["aws_endpoint_url", "ec2_url", "s3_url", "endpoint"], ["AWS_URL", "EC2_URL", "S3_URL"]),
    "region": (["aws_region", "ec2_region"], ["AWS_REGION", "AWS_DEFAULT_REGION", "EC2_REGION"]),
    "validate_certs": ([], []),
    "aws_ca_bundle": ([], ["AWS_CA_BUNDLE"]),
    "aws_config": ([], []),
    "debug_botocore_endpoint_logs": ([], ["ANSIBLE_DEBUG_BOTOCORE_LOGS"]),
}
PEER_MODULES = {
    "sts_session_token": {"duration_seconds": [], "mfa_serial_number": [], "mfa_token": []},
    "sts_assume_role": {"role_arn": [], "role_session_name": [], "policy": [], "duration_seconds": [],
                        "external_id": [], "mfa_serial_number": [], "mfa_token": []},
    "iam_access_key": {"user_name": ["username"], "id": [], "state": [], "active": ["enabled"], "rotate_keys": []},
    "iam_access_key_info": {"user_name": ["username"]},
    "aws_caller_info": {},
}

# Where the docs disagree with the spec today: (module or fragment, option, field) -> the
# disagreement. Each marks its assertion xfail(strict=True); remove the entry with the fix.
DISAGREEMENTS = {}

FIELDS = ["aliases", "deprecated_aliases", "type", "elements", "choices", "default", "required", "no_log",
          "env", "deprecated_env"]
KEPT_OUT_OF_LOGS = re.compile(r"\bKept out of logs\b")
DEPRECATED_ALIASES = re.compile(r"^The alias(?:es)? (.*) (?:is|are) deprecated\.$")
WHEN_NOT_SET = re.compile(r"^When not set, (.*)$")
ENV_ITEM = re.compile(r"E\(([A-Z0-9_]+)\)( \(deprecated\))?")
OPTION_REF = re.compile(r"O\(([a-z0-9_]+)\)")


# --------------------------------------------------------------------------------------------
# Reading the docs


@pytest.fixture(scope="module")
def installed(collections_dir):
    return collections_dir / COLLECTION


def sidecar(installed, module):
    return _yaml(installed / f"plugins/modules/{module}.yml")["DOCUMENTATION"]


@functools.lru_cache(maxsize=None)
def _yaml(path):
    return yaml.safe_load(path.read_text())


@functools.lru_cache(maxsize=None)
def fragment(installed, name="common"):
    """The DOCUMENTATION string of plugins/doc_fragments/<name>.py, without running the file."""
    path = installed / f"plugins/doc_fragments/{name}.py"
    assert path.is_file(), f"the spec names the documentation fragment {name}, but there is no {path.name}"
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["DOCUMENTATION"]:
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"no DOCUMENTATION in plugins/doc_fragments/{name}.py")


def docs_of(installed, owner):
    """The documented options of `owner`: a fragment's name or a module's."""
    if owner in FRAGMENTS:
        return fragment(installed, owner)["options"]
    return sidecar(installed, owner).get("options") or {}


def owner_of(module, option):
    """Where the documentation of a module's option lives: its fragment, or the module's sidecar."""
    return SPEC["modules"][module]["options"][option]["fragment"] or module


def documented(doc):
    """What the documentation of one option says, in the spec's terms."""
    lines = doc.get("description", [])
    lines = [lines] if isinstance(lines, str) else lines
    deprecated_aliases, env, deprecated_env = [], [], []
    for line in lines:
        m = DEPRECATED_ALIASES.match(line)
        if m:
            deprecated_aliases += OPTION_REF.findall(m.group(1))
        m = WHEN_NOT_SET.match(line)
        if m:
            for name, deprecated in ENV_ITEM.findall(m.group(1)):
                env.append(name)
                if deprecated:
                    deprecated_env.append(name)
    aliases = doc.get("aliases", [])
    return {
        "aliases": sorted(a for a in aliases if a not in deprecated_aliases),
        "deprecated_aliases": sorted(a if a in aliases else f"{a} (not among the aliases)" for a in deprecated_aliases),
        "type": doc.get("type", "str"),
        "elements": doc.get("elements"),
        "choices": doc.get("choices", []),
        "default": doc.get("default"),
        "required": doc.get("required", False),
        "no_log": any(KEPT_OUT_OF_LOGS.search(line) for line in lines),
        "env": env,
        "deprecated_env": sorted(deprecated_env),
    }


def in_spec_terms(option):
    return {**{f: option[f] for f in FIELDS},
            "aliases": sorted(option["aliases"]), "deprecated_aliases": sorted(option["deprecated_aliases"]),
            "deprecated_env": sorted(option["deprecated_env"])}


def marked(cases):
    """pytest.params of (owner, option, field, *more), xfail where DISAGREEMENTS lists
    (owner, option, field)."""
    params = []
    for case in cases:
        key = tuple(case[:3])
        marks = [pytest.mark.xfail(strict=True, reason=DISAGREEMENTS[key])] if key in DISAGREEMENTS else []
        params.append(pytest.param(*case, marks=marks, id="-".join(key)))
    return params


# --------------------------------------------------------------------------------------------
# The spec itself


def test_the_installed_executable_prints_the_spec_the_tests_use(installed):
    """The tables of the other tests come from the tarball's executable (at collection time);
    the installed one prints the same."""
    assert module_spec.print_spec(installed / "libexec/Linux-x86_64/rustaws-creds") == SPEC
    assert SPEC["collection"] == "rustaws.creds"


@pytest.mark.parametrize("module", MODULES)
def test_every_module_takes_the_same_common_options(module):
    common = {name: o for name, o in SPEC["modules"][module]["options"].items() if o["common"]}
    assert common == COMMON


@pytest.mark.parametrize("module", MODULES)
def test_common_means_the_common_fragment(module):
    """`common` and `fragment: common` say the same; no fragment is named like a module."""
    for name, o in SPEC["modules"][module]["options"].items():
        assert o["common"] == (o["fragment"] == "common"), name
    assert "common" in FRAGMENTS
    assert not set(FRAGMENTS) & set(MODULES)


@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_every_module_takes_a_fragments_options_alike(name):
    """A module that takes one option of a fragment takes all of them, as the others do."""
    for module in MODULES:
        opts = {o: spec for o, spec in SPEC["modules"][module]["options"].items() if spec["fragment"] == name}
        assert opts in ({}, FRAGMENTS[name]), module


@pytest.mark.parametrize("module", MODULES)
def test_names_are_unique_and_deprecations_are_names(module):
    """No name or alias twice; deprecated variables are among the option's variables."""
    opts = SPEC["modules"][module]["options"]
    every = [n for name, o in opts.items() for n in (name, *o["aliases"], *o["deprecated_aliases"])]
    assert len(every) == len(set(every)), sorted(n for n in every if every.count(n) > 1)
    for name, o in opts.items():
        assert set(o["deprecated_env"]) <= set(o["env"]), name
        assert len(o["env"]) == len(set(o["env"])), name


# --------------------------------------------------------------------------------------------
# The peers' names (compatibility promise)


@pytest.mark.parametrize("option", sorted(PEER_COMMON))
def test_the_peers_common_names_stay(option):
    aliases, env = PEER_COMMON[option]
    assert option in COMMON, f"common option {option} is gone"
    spec = COMMON[option]
    assert set(aliases) <= {*spec["aliases"], *spec["deprecated_aliases"]}
    assert [v for v in spec["env"] if v in env] == env, f"{option}: the variables {env}, in this order"


@pytest.mark.parametrize("module", sorted(PEER_MODULES))
def test_the_peers_module_options_stay(module):
    assert module in SPEC["modules"]
    opts = SPEC["modules"][module]["options"]
    for option, aliases in PEER_MODULES[module].items():
        assert option in opts and not opts[option]["common"], f"{module}: option {option} is gone"
        assert set(aliases) <= {*opts[option]["aliases"], *opts[option]["deprecated_aliases"]}, option


# --------------------------------------------------------------------------------------------
# Docs against the spec


def test_every_module_has_a_sidecar_an_executable_and_a_listing_file_and_nothing_else(installed):
    modules = installed / "plugins/modules"
    assert sorted(p.stem for p in modules.glob("*.yml")) == MODULES
    assert sorted(p.name for p in modules.iterdir() if p.is_symlink()) == MODULES
    assert sorted(p.name for p in modules.iterdir() if p.suffix == ".py") == [f"{m}.py" for m in MODULES]
    assert len(list(modules.iterdir())) == 3 * len(MODULES)
    for m in MODULES:
        listing = (modules / f"{m}.py").read_text()
        assert "DOCUMENTATION" not in listing and "import" not in listing, listing


def test_runtime_yml_lists_exactly_the_modules(installed):
    runtime = yaml.safe_load((installed / "meta/runtime.yml").read_text())
    assert sorted(runtime["action_groups"]["aws"]) == MODULES
    assert sorted(runtime["plugin_routing"]["modules"]) == MODULES


def test_the_fragment_documents_exactly_the_common_options(installed):
    assert sorted(fragment(installed)["options"]) == sorted(COMMON)


@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_each_fragment_documents_exactly_its_options(installed, name):
    assert sorted(fragment(installed, name)["options"]) == sorted(FRAGMENTS[name])


def test_no_fragment_ships_that_the_spec_does_not_name(installed):
    shipped = sorted(p.stem for p in (installed / "plugins/doc_fragments").glob("*.py") if p.stem != "__init__")
    assert shipped == sorted(FRAGMENTS)


@pytest.mark.parametrize("module", MODULES)
def test_the_sidecar_documents_exactly_the_modules_own_options(installed, module):
    doc = sidecar(installed, module)
    assert doc["module"] == module
    opts = SPEC["modules"][module]["options"]
    used = sorted({o["fragment"] for o in opts.values() if o["fragment"]} - {"common"})
    assert doc.get("extends_documentation_fragment") == ["rustaws.creds.common"] + [f"rustaws.creds.{f}" for f in used]
    own = sorted(name for name, o in opts.items() if o["fragment"] is None)
    assert sorted(doc.get("options") or {}) == own


@pytest.mark.parametrize("module", MODULES)
def test_check_mode_support_is_documented(installed, module):
    """full: check mode always; partial: only with the option check_mode_requires names (the
    attribute's text names it too); none: never."""
    attribute = sidecar(installed, module)["attributes"]["check_mode"]
    m = SPEC["modules"][module]
    requires = m.get("check_mode_requires")
    expected = "partial" if m["supports_check_mode"] and requires else "full" if m["supports_check_mode"] else "none"
    assert attribute["support"] == expected
    if requires:
        text = " ".join([attribute["description"]] + list(attribute.get("details") or []))
        assert f"O({requires})" in text, text


FRAGMENT_CASES = [(name, option, field) for name, opts in FRAGMENTS.items() for option in opts for field in FIELDS]
OWN_CASES = [(module, option, field) for module in MODULES
             for option, o in SPEC["modules"][module]["options"].items() if o["fragment"] is None for field in FIELDS]


@pytest.mark.parametrize("owner,option,field", marked(FRAGMENT_CASES + OWN_CASES))
def test_the_docs_say_what_the_spec_says(installed, owner, option, field):
    docs = docs_of(installed, owner)
    spec = FRAGMENTS[owner] if owner in FRAGMENTS else SPEC["modules"][owner]["options"]
    assert option in docs, f"{option} is not documented"
    said, meant = documented(docs[option])[field], in_spec_terms(spec[option])[field]
    assert said == meant, f"{owner} {option} {field}: the docs say {said!r}, the spec {meant!r}"


def and_list(options):
    refs = [f"O({o})" for o in options]
    return refs[0] if len(refs) == 1 else f"{', '.join(refs[:-1])} and {refs[-1]}"


def module_rule_cases(module):
    """(owner, option, kind, sentence) for every rule of a module's spec the docs state in words:
    required_if, required_by ("Requires O(a)."), and a group both mutually exclusive and
    required_one_of. The owner is where the option is documented: its fragment, or the module."""
    m = SPEC["modules"][module]
    cases = []
    for rule in m["required_if"]:
        value = str(rule["value"]).lower() if isinstance(rule["value"], bool) else rule["value"]
        for option in rule["requires"]:
            cases.append((option, "required_if", f"Required when O({rule['key']}={value})."))
    for option, requires in m["required_by"].items():
        cases.append((option, "required_by", f"Requires {and_list(requires)}."))
    for group in m["required_one_of"]:
        if sorted(group) in [sorted(g) for g in m["mutually_exclusive"]]:
            sentence = f"Exactly one of {and_list(group)}."
            cases += [(option, "exactly_one_of", sentence) for option in group]
    return [(owner_of(module, option), option, kind, sentence) for option, kind, sentence in cases]


def rule_cases():
    """Every module's rule cases, each once (a fragment's options' rules are stated once, in the
    fragment)."""
    return sorted({case for module in MODULES for case in module_rule_cases(module)})


@pytest.mark.parametrize("name", sorted(set(FRAGMENTS) - {"common"}))
def test_a_fragments_rules_hold_in_every_module_that_takes_it(name):
    """What the fragment states about its options is true for every module documented with it."""
    takers = [m for m in MODULES if any(o["fragment"] == name for o in SPEC["modules"][m]["options"].values())]
    rules = {m: sorted(c for c in module_rule_cases(m) if c[0] == name) for m in takers}
    assert len({tuple(r) for r in rules.values()}) <= 1, rules


@pytest.mark.parametrize("owner,option,kind,sentence", marked(rule_cases()))
def test_the_docs_state_the_rules(installed, owner, option, kind, sentence):
    lines = docs_of(installed, owner)[option]["description"]
    lines = [lines] if isinstance(lines, str) else lines
    assert any(sentence in line for line in lines), f"{owner} {option}: {sentence!r} not in {lines}"


# --------------------------------------------------------------------------------------------
# The fuzzing dictionary


def dictionary_entries(path):
    """The strings of a libFuzzer dictionary (`"..."` or `name="..."` lines, \\\\, \\" and \\xNN)."""
    entries = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        quoted = line[line.index('"') + 1:line.rindex('"')]
        entries.add(re.sub(r'\\(x[0-9A-Fa-f]{2}|.)',
                           lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "x" else m.group(1), quoted))
    return entries


def test_the_fuzzing_dictionary_has_every_name_of_sts_session_token():
    """Every option name and alias (as a JSON string, the way it appears in an args file) and
    every environment variable of sts_session_token, the module the fuzz targets run."""
    entries = dictionary_entries(ROOT / "fuzz/args_file.dict")
    opts = SPEC["modules"]["sts_session_token"]["options"]
    wanted = {f'"{n}"' for n in module_spec.all_names(opts)} | {f'"{v}"' for o in opts.values() for v in o["env"]}
    assert not wanted - entries, f"missing from fuzz/args_file.dict: {sorted(wanted - entries)}"
