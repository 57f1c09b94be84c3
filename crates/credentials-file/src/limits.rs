//! How much of a file is read at most.

/// The largest credentials file read (1 MiB): a profile takes under 2 KiB, so this leaves room
/// for hundreds of profiles and comments, and bounds what a file that grows without end could
/// make us read (a link to `/dev/zero` is refused anyway, as every file that is not regular).
pub const MAX_FILE_SIZE: u64 = 1 << 20;
