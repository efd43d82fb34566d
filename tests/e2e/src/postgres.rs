//! A throwaway PostgreSQL server for tests and benchmarks: Debian's server binaries (installed
//! by `scripts/setup`), a cluster in a fresh temporary directory, listening on a free loopback
//! port and a Unix socket in that directory; stopped and deleted when dropped.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A running PostgreSQL cluster of its own.
pub struct TestPostgres {
    dir: PathBuf,
    bin: PathBuf,
    /// Its loopback port.
    pub port: u16,
    /// Whether its commands run as the `postgres` user (the server refuses to run as root).
    as_postgres: bool,
}

/// The server's binaries: `$IPNKIT_PG_BIN`, or Debian's newest `/usr/lib/postgresql/N/bin`.
/// Fails with a message saying what is missing.
pub fn postgres_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("IPNKIT_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server is missing (no /usr/lib/postgresql/N/bin/initdb): \
             run scripts/setup (apt-get install postgresql-15), or set IPNKIT_PG_BIN"
        )
    })
}

impl TestPostgres {
    /// Creates a cluster and starts it; fails with the server's log when it cannot.
    pub fn start() -> TestPostgres {
        static N: AtomicU32 = AtomicU32::new(0);
        let bin = postgres_bin();
        let dir = std::env::temp_dir().join(format!(
            "ipnkit-pg-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // PostgreSQL refuses to run as root: root runs it as the `postgres` user.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if as_postgres {
            let chowned = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                chowned,
                "cannot give {} to the postgres user (is PostgreSQL installed? scripts/setup)",
                dir.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let pg = TestPostgres {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = pg.dir.join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "ipnkit",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let options = format!(
            "-k {dir} -p {port} -c listen_addresses=127.0.0.1 -c max_connections=200",
            dir = pg.dir.display()
        );
        let log = pg.dir.join("server.log");
        let started = pg
            .command(
                "pg_ctl",
                &[
                    "-D",
                    &data.display().to_string(),
                    "-l",
                    &log.display().to_string(),
                    "-o",
                    &options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            )
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            started,
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        pg
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command.args(args).current_dir(&self.dir);
        command
    }

    /// Runs one of the server's programs; fails with its output unless it succeeds; returns its
    /// standard output, trimmed.
    fn run(&self, program: &str, args: &[&str]) -> String {
        let out = self.command(program, args).output().unwrap_or_else(|e| {
            panic!("cannot run PostgreSQL's {program} (scripts/setup installs it): {e}")
        });
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Runs one of PostgreSQL's client programs against this server over loopback TCP, as the
    /// `ipnkit` superuser, with `args` after the connection's own.
    fn run_client(&self, program: &str, args: &[&str]) -> String {
        let port = self.port.to_string();
        let connection = ["-h", "127.0.0.1", "-p", &port, "-U", "ipnkit"];
        self.run(program, &[&connection[..], args].concat())
    }

    /// A new, empty database `name`; returns its URL (loopback TCP).
    pub fn database(&self, name: &str) -> String {
        self.run_client("createdb", &[name]);
        self.url(name)
    }

    /// The URL of database `name` over loopback TCP.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://ipnkit@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs one SQL statement in database `name` with `psql` (as the `ipnkit` superuser);
    /// returns its unaligned output.
    pub fn sql(&self, name: &str, statement: &str) -> String {
        self.run_client(
            "psql",
            &[
                "-d",
                name,
                "-XAtq",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ],
        )
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
