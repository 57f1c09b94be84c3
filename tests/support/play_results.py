"""What ansible-playbook's default callback printed for each task, in a form two runs can be
compared in: the values that differ from run to run (new credentials, times, request IDs)
replaced by "<volatile>"."""

import json
import re

# A task's (or loop item's) result line; the JSON of the result follows it.
RESULT = re.compile(r"^(ok|changed|skipping|fatal): \[(\w+)\](?:: [A-Z!]+)?(?: => \(item=[^)]*\))? => ", re.M)
VOLATILE = {"secret_key", "session_token", "expiration", "request_id",
            "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "expires_in"}


def results(stdout):
    """[(status, result)] for every task and loop item, in order, volatile values replaced."""
    decoder = json.JSONDecoder()
    return [(m.group(1), normalised(decoder.raw_decode(stdout, m.end())[0])) for m in RESULT.finditer(stdout)]


def normalised(value):
    if isinstance(value, dict):
        return {k: "<volatile>" if k in VOLATILE else normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value
