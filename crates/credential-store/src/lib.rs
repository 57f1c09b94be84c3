//! Credentials kept in a profile of the AWS shared credentials file, for every module that
//! keeps any: the output options ([`options`]), one profile read before anything is decided,
//! checked, written and shown as a diff ([`profile`]), and the STS modules' reuse of a profile
//! until its credentials near expiry ([`reuse`]). The file format and its safe writing belong to
//! `credentials-file`; this crate decides what goes into the file and when.

pub mod options;
pub mod profile;
pub mod reuse;

pub use options::{
    check_profile_name, credentials_file_path, with_output_options, Destination, OutputOptions,
    StoreOptions, CREDENTIALS_FILE, DEFAULT_MIN_TTL, OUTPUT_FRAGMENT, OUTPUT_OPTIONS,
    OUTPUT_PROFILE, OVERWRITE_UNMANAGED_PROFILE, STORE_OPTIONS,
};
pub use profile::{Profile, Unwritten};
pub use reuse::{decide, digest, reuse_or_mint, Decision, Request, Slot};
