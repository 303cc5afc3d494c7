//! The library's errors. Each names the file or archive member at fault, in one line, so the
//! binary can print it as it is and exit with status 2.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Something wrong inside an archive: which archive, which member, what.
    #[error("{archive}: {member}: {message}")]
    Member {
        archive: String,
        member: String,
        message: String,
    },

    /// The archive as a whole is not an image.
    #[error("{archive}: {message}")]
    NotAnImage { archive: String, message: String },

    /// A layer's digest does not match the one the manifest or config declares.
    #[error("{archive}: {member}: {what} mismatch: expected {expected}, found {found}")]
    DigestMismatch {
        archive: String,
        member: String,
        what: &'static str,
        expected: String,
        found: String,
    },

    #[error("{0}")]
    Usage(String),

    #[error("{0}")]
    Daemon(String),

    /// A registry refused or broke off; the message names the registry and repository.
    #[error("{0}")]
    Registry(String),

    #[error("{what}: {message}")]
    Config { what: String, message: String },

    /// The front end asked the load to stop (the user quit while it ran).
    #[error("cancelled")]
    Cancelled,
    /// A leftover rule (`--rules FILE`) that cannot be used: which file, which rule, why.
    #[error("{file}: rule {rule}: {message}")]
    LeftoverRule {
        file: String,
        rule: String,
        message: String,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn member(archive: &str, member: &str, message: impl Into<String>) -> Self {
        Error::Member {
            archive: archive.to_string(),
            member: member.to_string(),
            message: message.into(),
        }
    }
    pub fn not_image(archive: &str, message: impl Into<String>) -> Self {
        Error::NotAnImage {
            archive: archive.to_string(),
            message: message.into(),
        }
    }
}
