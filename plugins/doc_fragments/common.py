# Copyright: (c) 2026, rustaws.creds maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options every module of the collection takes, and the platforms every module runs on
(documentation only: read by ansible-doc on the controller; the modules themselves are compiled
binaries)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  platform:
    platforms: posix
    support: full
    description:
      - Linux on x86_64 or aarch64 with glibc 2.17 or newer.
      - Builds for macOS 11 or newer (Apple silicon, Intel) ship too, checked but not run by the tests (see the
        collection README, "Platforms").
options:
  access_key:
    description:
      - AWS access key ID.
      - When not set, the first present of E(AWS_ACCESS_KEY_ID), E(AWS_ACCESS_KEY), E(EC2_ACCESS_KEY) (deprecated) is used.
      - The alias O(ec2_access_key) is deprecated.
    type: str
    aliases: [aws_access_key_id, aws_access_key, ec2_access_key]
  secret_key:
    description:
      - AWS secret access key. Kept out of logs and results.
      - When not set, the first present of E(AWS_SECRET_ACCESS_KEY), E(AWS_SECRET_KEY), E(EC2_SECRET_KEY) (deprecated) is used.
      - The alias O(ec2_secret_key) is deprecated.
    type: str
    aliases: [aws_secret_access_key, aws_secret_key, ec2_secret_key]
  session_token:
    description:
      - AWS session token, for temporary credentials. Kept out of logs and results.
      - When not set, the first present of E(AWS_SESSION_TOKEN), E(AWS_SECURITY_TOKEN) (deprecated), E(EC2_SECURITY_TOKEN) (deprecated) is used.
      - The aliases O(security_token), O(aws_security_token) and O(access_token) are deprecated.
    type: str
    aliases: [aws_session_token, security_token, aws_security_token, access_token]
  profile:
    description:
      - A profile of the AWS config files to take credentials and region from. It must exist.
      - When not set, the first present of E(AWS_PROFILE), E(AWS_DEFAULT_PROFILE) is used.
      - Not together with keys given as task arguments; a task argument beats an environment variable.
      - The alias O(boto_profile) is deprecated.
    type: str
    aliases: [aws_profile, boto_profile]
  endpoint_url:
    description:
      - The URL of the service's endpoint (STS or IAM), for other implementations (Ceph RGW, moto) or private endpoints.
      - When not set, the first present of E(AWS_URL), E(EC2_URL) (deprecated), E(S3_URL) (deprecated) is used.
      - The aliases O(ec2_url), O(s3_url) and O(endpoint) are deprecated.
    type: str
    aliases: [aws_endpoint_url, ec2_url, s3_url, endpoint]
  region:
    description:
      - The AWS region; for STS it selects the regional endpoint. IAM is global and signs for C(us-east-1).
      - When not set, the first present of E(AWS_REGION), E(AWS_DEFAULT_REGION), E(EC2_REGION) (deprecated), then the profile's region, then C(us-east-1).
      - The alias O(ec2_region) is deprecated.
    type: str
    aliases: [aws_region, ec2_region]
  validate_certs:
    description:
      - Whether to verify the endpoint's TLS certificate. V(false) turns verification off.
    type: bool
    default: true
  aws_ca_bundle:
    description:
      - A PEM file of CA certificates to verify the endpoint with, instead of the system's.
      - When not set, E(AWS_CA_BUNDLE) is used.
    type: path
  aws_config:
    description:
      - botocore C(Config) keywords. Honoured are C(connect_timeout) and C(read_timeout) (seconds, defaults 10 and 60),
        C(retries) (C(max_attempts), C(total_max_attempts), C(mode)), C(use_fips_endpoint) and C(use_dualstack_endpoint).
      - Other botocore keywords are ignored with a warning; any other key fails.
    type: dict
  debug_botocore_endpoint_logs:
    description:
      - Accepted for compatibility with the Python modules; it has no effect.
      - When not set, E(ANSIBLE_DEBUG_BOTOCORE_LOGS) is used.
    type: bool
    default: false
"""
