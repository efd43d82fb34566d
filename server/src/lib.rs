//! # ipnkit-server
//!
//! The I/O around the ipnkit core, for testing listeners end to end on one machine and for
//! running one in production:
//!
//! | module | what |
//! |---|---|
//! | [`sandbox`] | [`Sandbox`]: a local stand-in for PayPal — delivers messages, answers postbacks, plays Express Checkout's authorize and capture, injects faults |
//! | [`listener`] | [`Listener`]: a reference listener, one module per step — intake (HTTP: limits and timeouts while reading, a connection cap, graceful shutdown; stored before 200), postbacks by independent workers with retries, settling (order lookup, the core's decision), the outbox and its sinks (signed when POSTed), metrics |
//! | [`local`] | the stand-ins' HTTP server (hyper on a thread of its own): each request answered by a plain function |
//! | [`orders`] | [`Orders`]: where a payment's expected amount and currency come from |
//! | [`store`] | [`Store`]: the listener's store, SQLite (one process) or PostgreSQL (several) |
//!
//! The core (`ipnkit`) stays free of I/O; everything that touches a socket or a file is here.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod listener;
pub mod local;
pub mod orders;
mod reconnect;
pub mod sandbox;
pub mod store;
mod util;

pub use listener::{Backoff, Config, HttpLimits, Listener, Retention, Sink, StartError, Webhooks};
pub use orders::{Orders, References};
pub use sandbox::{Faults, Report, Sandbox, Schedule};
pub use store::{Counts, Db, Outcome, Store, StoreError};
pub use util::client;
