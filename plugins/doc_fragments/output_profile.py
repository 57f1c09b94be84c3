# Copyright: (c) 2026, rustaws.creds maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the STS modules that keep their credentials in a profile of the AWS shared
credentials file, and reuse them from there (documentation only: read by ansible-doc on the
controller; the modules themselves are compiled binaries)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  output_profile:
    description:
      - A profile of the AWS shared credentials file (see O(credentials_file)) to write the credentials to, and to reuse them from.
      - When the profile holds credentials this collection wrote for the same request (the same operation, signer, endpoint,
        region and request options, the MFA code aside) that stay valid for more than O(min_ttl) seconds, they are returned
        with RV(changed=false), without calling STS and without an MFA code. Otherwise the module calls STS, writes the new
        credentials to the profile and returns RV(changed=true).
      - The AWS CLI, the SDKs and boto3 read the profile by its name (C(AWS_PROFILE=<name>), or O(profile) of a later task).
      - The profile the task signs with, in the file the SDK reads, is refused.
      - A write replaces the profile's keys (its comments stay) and keeps every other byte of the file (comments, other profiles,
        line ends). It is atomic (a temporary file in the same directory, synced, then renamed over the file), takes the lock
        file C(<file>.lock) against parallel writers, and leaves the file with mode C(0600).
      - A profile this collection did not write is refused, before any call, unless O(overwrite_unmanaged_profile=true).
      - When not set (or V('')), nothing is read or written and every run calls STS, as in the Python modules.
    type: str
  credentials_file:
    description:
      - The AWS shared credentials file O(output_profile) is in, on the managed host. A symbolic link is written through to its target;
        a missing file is created, and missing directories with mode C(0700).
      - By default the file the AWS SDKs read there, E(AWS_SHARED_CREDENTIALS_FILE) if it is set (a leading C(~) expanded), else
        C(~/.aws/credentials) of the user the module runs as.
      - Requires O(output_profile).
    type: path
  min_ttl:
    description:
      - Credentials kept in O(output_profile) are reused only while they stay valid for more than this many seconds; closer to
        their expiry, new ones are obtained.
      - From 0 to 129600 (36 hours, the longest any STS credentials live).
      - When new credentials would already expire within O(min_ttl), the module warns that every run will refresh them.
      - Only used with O(output_profile).
    type: int
    default: 900
  force_refresh:
    description:
      - Obtain new credentials even when those kept in O(output_profile) could be reused.
      - Only used with O(output_profile).
    type: bool
    default: false
  overwrite_unmanaged_profile:
    description:
      - Replace O(output_profile) even when the profile was not written by this collection (it lacks the key
        C(x_rustaws_creds_managed = true)), for example keys someone put there by hand.
      - Without it such a profile is left alone and the task fails before any call, naming the profile and the file.
      - Only used with O(output_profile).
    type: bool
    default: false
"""
