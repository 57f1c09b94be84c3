"""The credentials file as botocore reads it: crates/credentials-file against botocore itself.

For every file of crates/credentials-file/tests/corpus/ (comments, `[prod] ; production`,
indentation, continuation and nested values, duplicate keys and sections, BOM, CRLF, lone CR,
mixed line ends, no final newline, odd section names, empty values, keys without `=`,
`[DEFAULT]`, Unicode white space, invalid UTF-8):

(a) what the crate reads as each profile's keys is what botocore's `raw_config_parse` returns,
    or both refuse the file;
(b) after the crate writes a profile (each existing one and a new one, with and then without a
    session token), botocore reads the written profile's new keys and every other profile
    unchanged; a file botocore refuses is refused and left untouched, and so is a write that
    `[DEFAULT]` would add keys to.

The crate is driven through its `credfile` example (crates/credentials-file/examples/), built
here with cargo.
"""

import json
import pathlib
import shutil
import subprocess

import pytest
from botocore.configloader import raw_config_parse
from botocore.exceptions import ConfigParseError

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "crates/credentials-file/tests/corpus"
FILES = sorted(CORPUS.glob("*.ini"))


@pytest.fixture(scope="module")
def credfile():
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", "credentials-file", "--example", "credfile"],
        cwd=ROOT, check=True, timeout=600,
    )
    meta = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1"],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=120,
    )
    path = pathlib.Path(json.loads(meta.stdout)["target_directory"]) / "debug/examples/credfile"
    assert path.is_file(), path

    def run(*args):
        proc = subprocess.run([str(path), *map(str, args)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    return run


def botocore_view(path):
    """Each profile's keys as botocore reads them (nested values as their raw text), or None
    when botocore refuses the file."""
    try:
        raw_config_parse(str(path))  # nested values checked too
        return raw_config_parse(str(path), parse_subsections=False)
    except ConfigParseError:
        return None


def written_keys(tag, long_term):
    keys = {"aws_access_key_id": f"ASIA{tag}", "aws_secret_access_key": f"secret/{tag}+x="}
    if not long_term:
        keys.update(aws_session_token=f"token-{tag}", expiration="2030-01-02T03:04:05Z")
    keys.update(x_rustaws_creds_managed="true", x_rustaws_creds_request="0123abcdef")
    return keys


def test_the_corpus_covers_the_rules():
    names = {f.stem for f in FILES}
    assert len(names) >= 40, names
    refused = {f.stem for f in FILES if botocore_view(f) is None}
    assert {"bom", "duplicate-sections", "duplicate-keys", "no-equals", "invalid-utf8",
            "nested-bad", "text-before-header"} <= refused, refused
    assert {"inline-header-comment", "lone-cr", "mixed-endings", "crlf", "continuation",
            "default-section", "unicode"} <= names - refused


@pytest.mark.parametrize("path", FILES, ids=lambda f: f.stem)
def test_the_crate_reads_what_botocore_reads(credfile, path, tmp_path):
    copy = tmp_path / "credentials"
    shutil.copyfile(path, copy)
    expected = botocore_view(copy)
    got = credfile("read", copy)
    if expected is None:
        assert "error" in got, f"botocore refuses {path.name}, the crate read {got}"
        assert got["error"].startswith(f"{copy} line "), got
    else:
        assert got == {"profiles": expected}


@pytest.mark.parametrize("path", FILES, ids=lambda f: f.stem)
def test_botocore_reads_what_the_crate_wrote(credfile, path, tmp_path):
    before = botocore_view(path)
    profiles = list(before or {"a": {}}) + ["fresh"]
    for n, profile in enumerate(profiles):
        copy = tmp_path / f"credentials-{n}"
        shutil.copyfile(path, copy)
        original = copy.read_bytes()
        if before is None:
            refusal = credfile("read", copy)["error"]
            answer = credfile("write", copy, profile, f"T{n}")
            if "appears 2 times" not in answer.get("error", ""):  # DuplicateProfile says it so
                assert answer == {"error": refusal}
            assert copy.read_bytes() == original
            continue
        for tag, long_term in [(f"S{n}", False), (f"L{n}", True)]:
            answer = credfile("write", copy, profile, tag, *(["long-term"] if long_term else []))
            if "error" in answer:
                # Only a name the crate does not write (brackets, control characters, white
                # space at an end) or [DEFAULT] keys the profile would inherit stop a write.
                assert (answer["error"].startswith(f"invalid profile name {json.dumps(profile)}")
                        or "[DEFAULT] section gives every profile" in answer["error"]), answer
                assert copy.read_bytes() == original
                break
            after = botocore_view(copy)
            assert after is not None, f"botocore cannot read what was written:\n{copy.read_bytes()!r}"
            assert after[profile] == written_keys(tag, long_term), copy.read_bytes()
            others = {name: keys for name, keys in after.items() if name != profile}
            assert others == {name: keys for name, keys in before.items() if name != profile}
            assert credfile("read", copy) == {"profiles": after}


def test_the_reported_cases(credfile, tmp_path):
    """The issue: `[prod]   ; production` is profile prod, for botocore and for the writer."""
    path = tmp_path / "credentials"
    shutil.copyfile(CORPUS / "inline-header-comment.ini", path)
    assert credfile("write", path, "dev", "D") == {"outcome": "Replaced"}
    assert credfile("write", path, "prod", "P") == {"outcome": "Replaced"}
    text = path.read_bytes()
    assert text.count(b"[prod]") == 1 and text.startswith(b"[prod]   ; production\n")
    view = raw_config_parse(str(path))
    assert view["prod"] == written_keys("P", False)
    assert view["dev"] == written_keys("D", False)
    assert view["stage"] == {"region": "eu-west-1"}
