"""sts_session_token through real ansible-playbook runs (the assertions live in the playbooks'
assert tasks; each playbook must end with failed=0)."""

import re

import pytest

from harness import PLACEHOLDER


def test_session_token_shape_and_duration(playbook):
    """changed, sts_creds keys in order, whole-second UTC expiration ~1000 s ahead."""
    proc = playbook("success.yml")
    assert re.search(r"^localhost\s+: ok=2\s+changed=1 ", proc.stdout, re.M), proc.stdout


def test_credentials_of_one_task_used_by_the_next(playbook):
    """The credentials one task returns work in the next task (aws_caller_info: sts_session_token
    refuses credentials with a session token)."""
    proc = playbook("chained.yml")
    assert re.search(r"^localhost\s+: ok=3\s+changed=1 ", proc.stdout, re.M), proc.stdout


def test_credentials_handed_to_a_later_task_through_environment(playbook):
    """env holds the four AWS_* variables a command reads; expires_in is whole seconds left."""
    proc = playbook("handoff.yml")
    assert re.search(r"^localhost\s+: ok=3\s+changed=1 ", proc.stdout, re.M), proc.stdout


@pytest.mark.parametrize("name", [
    "module_defaults_collection_group.yml",
    "module_defaults_collection_group_short_name.yml",
])
def test_module_defaults_collection_group_supplies_options(playbook, name):
    """group/rustaws.creds.aws reaches the module (FQCN and, with the collections
    keyword, the short name); nothing else gives the task an endpoint or credentials."""
    playbook(name)


@pytest.mark.parametrize("name", [
    "module_defaults_group_aws_with_collections.yml",
    "module_defaults_group_aws.yml",
])
def test_module_defaults_plain_aws_group_does_not_reach_the_module(playbook, name):
    """Finding: ansible-core resolves `group/aws` to ansible.builtin.aws, which only
    extends amazon.aws.aws and community.aws.aws, with or without `collections:`. The module
    then runs without the defaults (and fails for lack of credentials)."""
    playbook(name)


def test_check_mode_in_a_playbook_skips_without_calling_and_still_validates(playbook, fake_sts):
    """Check mode in a playbook: skipped with the standard message, bad values and unknown options
    fail, and STS is never called."""
    playbook("check_mode.yml")
    assert fake_sts.requests == []


def test_verbose_playbook_output_never_shows_secret_key_or_mfa_code(playbook, collections_dir):
    """at -vvv ansible prints the module's result, invocation included (the args file
    itself is never printed). The secret key and MFA code must not appear anywhere."""
    secret, token = "Zx9vQ2mN7pL4rT8kW3yB6cF1hJ5sD0gA2eU7iO4q", "123456"
    proc = playbook("no_log_verbose.yml", env={"TEST_SECRET": secret, "TEST_MFA_TOKEN": token}, args=["-vvv"])
    out = proc.stdout + proc.stderr
    # The run used the installed collection and printed the module result with its invocation.
    assert ("rustaws.creds: running sts_session_token in place: "
            f"{collections_dir}/ansible_collections/rustaws/creds/libexec/Linux-x86_64/rustaws-creds") in out
    assert f'"mfa_token": "{PLACEHOLDER}"' in out
    assert f'"secret_key": "{PLACEHOLDER}"' in out
    assert '"mfa_serial_number": "arn:aws:iam::********789012:mfa/user"' in out
    # Ansible's own temporary names hold random digits that could contain the code by chance.
    scrubbed = re.sub(r"ansible-(?:tmp|local)-[\w.\-]+|tmp[a-z0-9_]{8}", "", out)
    assert secret not in scrubbed
    assert token not in scrubbed
