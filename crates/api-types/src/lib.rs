//! The files and messages a credex client and node share: request signing and its headers, key and clients files, and the HTTP API's answers.
//!
//! One definition of each, used by the node's API (`credex-api`), the CLI
//! (`credex-cli`), the web UI's contract and the tests:
//!
//! * [`sign`]: the four credential headers and the statement they sign
//!   (spec §12.1);
//! * [`keyfile`]: an agency's or a subject's key file;
//! * [`clients`]: the clients file of a node (officials, platforms);
//! * `client` (feature `client`): a blocking, typed client of the API;
//! * [`types`]: the bodies of the API's answers (spec §11), with their
//!   OpenAPI schemas.
//!
//! No networking, storage or runtime here: the crate is what both ends of
//! a request agree on.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

#[cfg(feature = "client")]
pub mod client;
pub mod clients;
pub mod keyfile;
pub mod sign;
pub mod types;

pub use clients::{Client, Clients};
pub use keyfile::{DEV_WARNING, FileError, KeyFile, SubjectKeyFile};
