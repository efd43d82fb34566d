//! # ipnkit-server
//!
//! The I/O around the ipnkit core, for testing listeners end to end on one machine and for
//! running one in production:
//!
//! | module | what |
//! |---|---|
//! | [`sandbox`] | [`Sandbox`]: a local stand-in for PayPal — delivers messages, answers postbacks, plays Express Checkout's authorize and capture, injects faults |
//! | [`listener`] | [`Listener`]: a reference listener — SQLite before 200, postback with retries, policy, deduplication, event sink |
//! | [`store`] | [`Store`]: the listener's SQLite store |
//!
//! The core (`ipnkit`) stays free of I/O; everything that touches a socket or a file is here.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod express;
pub mod listener;
pub mod sandbox;
pub mod store;

pub use listener::{Backoff, Config, Listener, Sink, StartError};
pub use sandbox::{Faults, Report, Sandbox, Schedule};
pub use store::{Counts, Store, StoreError};
