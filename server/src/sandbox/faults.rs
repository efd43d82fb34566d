//! The faults the stand-in injects, chosen per run.

use std::time::Duration;

/// Which faults to inject, each on every `every`-th occasion (postbacks for the first four,
/// deliveries for the next two, `DoCapture` calls for the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Answer a postback only after [`Faults::SLOW`].
    pub slow: bool,
    /// Answer a postback `503 Service Unavailable`.
    pub server_error: bool,
    /// Answer a postback 200 with an HTML page that contains `VERIFIED`.
    pub html: bool,
    /// Never answer a postback: its connection stays open and silent until the client gives up
    /// (a hung endpoint; the client's own timeout decides how long that is).
    pub drop: bool,
    /// Deliver a message twice.
    pub duplicate: bool,
    /// Deliver messages out of order.
    pub reorder: bool,
    /// Capture (`DoCapture`) and notify, but never answer: the connection stays silent until the
    /// shop's request gives up, and the shop never reads the capture's id.
    pub lost: bool,
    /// Deliver webhook forgeries beside every `every`-th webhook: its body re-formatted after
    /// signing, a signature by another key, a certificate URL on a foreign host, an expired
    /// leaf. (With `5xx` and `drop`, the first fetch of the leaf fails and the second hangs.)
    pub forge: bool,
    /// How often a fault strikes (every n-th occasion); 0 means 4.
    pub every: u32,
}

impl Faults {
    /// How long a slow answer waits.
    pub const SLOW: Duration = Duration::from_millis(300);

    /// Every fault on.
    pub fn all() -> Faults {
        Faults {
            slow: true,
            server_error: true,
            html: true,
            drop: true,
            duplicate: true,
            reorder: true,
            lost: true,
            forge: true,
            every: 4,
        }
    }

    /// Parses a comma-separated list: `slow,5xx,html,drop,duplicate,reorder,lost,forge`, or `all`,
    /// `none`.
    pub fn parse(list: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "all" => f = Faults::all(),
                "none" => f = Faults::default(),
                "slow" => f.slow = true,
                "5xx" => f.server_error = true,
                "html" => f.html = true,
                "drop" => f.drop = true,
                "duplicate" => f.duplicate = true,
                "reorder" => f.reorder = true,
                "lost" => f.lost = true,
                "forge" => f.forge = true,
                other => return Err(format!("unknown fault {other:?}")),
            }
        }
        Ok(f)
    }

    pub(crate) fn every(self) -> u64 {
        if self.every == 0 {
            4
        } else {
            u64::from(self.every)
        }
    }
}
