//! What the reliability tests share: the real binary as a child process, a
//! TCP proxy that can "stop" PostgreSQL for one test only, and snapshots of
//! what the database holds.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use authtoken::db::{ConnectionManager, DbConnection};
use authtoken::schema::{token_events, tokens, users};
use diesel::prelude::*;

use crate::common::{SECRET, TestDatabase};

pub const BIN: &str = env!("CARGO_BIN_EXE_authtoken");

/// Upper bound for anything that must "never hang": far above what any
/// step takes, so that only a real hang trips it.
pub const NEVER_A_HANG: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// The real binary

/// `authtoken serve` as a child process on a port the kernel picked, with
/// its stderr (the log) captured.
pub struct ChildServer {
    child: Child,
    pub base: String,
    log: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    exited: Option<ExitStatus>,
}

impl ChildServer {
    /// Starts the server on `db` with fast bcrypt and a fixed secret;
    /// `env` adds or overrides variables.
    pub fn start(db: &TestDatabase, env: &[(&str, &str)]) -> ChildServer {
        Self::try_start(db, env).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The same; `Err` with its log when the server exits before listening
    /// (a port taken meanwhile, say).
    pub fn try_start(db: &TestDatabase, env: &[(&str, &str)]) -> Result<ChildServer, String> {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .current_dir(db.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &db.url)
            .env("SECRET_KEY", SECRET)
            .env("BIND", "127.0.0.1:0")
            .env("BCRYPT_COST", "4")
            .env("WORKERS", "2")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the binary starts");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let mut server = ChildServer {
            child,
            base: String::new(),
            log,
            reader: Some(reader),
            exited: None,
        };
        let deadline = Instant::now() + NEVER_A_HANG;
        loop {
            let log = server.log();
            if let Some(at) = log.find("listening on http://") {
                let rest = &log[at + "listening on ".len()..];
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                server.base = rest[..end].to_string();
                break;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                return Err(format!(
                    "the server exited with {status} before listening:\n{log}"
                ));
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start listening:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `host:port`, for raw TCP.
    pub fn addr(&self) -> SocketAddr {
        self.base
            .trim_start_matches("http://")
            .parse()
            .expect("an address")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log written so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    /// `kill -9`: no chance to clean up.
    pub fn kill9(&mut self) -> ExitStatus {
        signal(self.pid(), libc::SIGKILL);
        self.wait_exit(NEVER_A_HANG)
    }

    /// `kill -TERM`.
    pub fn terminate(&self) {
        signal(self.pid(), libc::SIGTERM);
    }

    /// Waits for the process to end (panics if it does not within `limit`),
    /// then for its log to be complete.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        if let Some(status) = self.exited {
            return status;
        }
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                signal(self.pid(), libc::SIGKILL);
                let _ = self.child.wait();
                panic!("the server did not exit within {limit:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.exited = Some(status);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn signal(pid: u32, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("a pid");
    // SAFETY: kill(2) with a pid this test spawned and has not reaped yet.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
}

/// Runs a command of the binary (not `serve`) on `db` and returns its output.
pub fn command(db: &TestDatabase, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(db.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("SECRET_KEY", SECRET)
        .env("BCRYPT_COST", "4")
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

/// A blocking HTTP client that never waits forever.
pub fn blocking_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(NEVER_A_HANG)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------
// Raw HTTP, for what reqwest will not send

/// Writes `request` on a fresh connection and reads the whole answer (the
/// request should say `Connection: close`).
pub fn raw_http(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(NEVER_A_HANG)).unwrap();
    // The server may answer and close before it read everything (a 431, a
    // 413): a failed write is fine, the answer is what counts.
    let _ = stream.write_all(request);
    let _ = stream.shutdown(Shutdown::Write);
    read_response(&mut stream)
}

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one HTTP/1.1 response (Content-Length or until EOF).
pub fn read_response(stream: &mut TcpStream) -> RawResponse {
    try_read_response(stream).unwrap_or_else(|e| panic!("{e}"))
}

/// Reads one HTTP/1.1 response, or says why there was none.
pub fn try_read_response(stream: &mut TcpStream) -> Result<RawResponse, String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&data, b"\r\n\r\n") {
            break at;
        }
        match stream.read(&mut buf) {
            Ok(0) => {
                return Err(format!(
                    "connection closed before a response head: {:?}",
                    String::from_utf8_lossy(&data)
                ));
            }
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("reading a response: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = data[head_end + 4..].to_vec();
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    match length {
        Some(length) => {
            while body.len() < length {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => body.extend_from_slice(&buf[..n]),
                }
            }
            body.truncate(length);
        }
        None => {
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&buf[..n]);
            }
        }
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------
// A PostgreSQL "outage" for one test only

/// A TCP proxy in front of PostgreSQL. `stop` closes its port and cuts every
/// connection through it (what clients see when the server goes down);
/// `start` listens on the same port again. The shared PostgreSQL server is
/// never touched.
pub struct TcpProxy {
    port: u16,
    target: SocketAddr,
    running: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl TcpProxy {
    pub fn start(target: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().unwrap().port();
        let mut proxy = TcpProxy {
            port,
            target,
            running: Arc::new(AtomicBool::new(false)),
            conns: Arc::new(Mutex::new(Vec::new())),
            acceptor: None,
        };
        proxy.serve(listener);
        proxy
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn serve(&mut self, listener: TcpListener) {
        listener.set_nonblocking(true).unwrap();
        self.running.store(true, Ordering::SeqCst);
        let running = self.running.clone();
        let conns = self.conns.clone();
        let target = self.target;
        self.acceptor = Some(std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(upstream) = TcpStream::connect(target) else {
                            continue;
                        };
                        let pairs = [
                            (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                            (upstream.try_clone().unwrap(), client.try_clone().unwrap()),
                        ];
                        {
                            let mut all = conns.lock().unwrap();
                            all.push(client);
                            all.push(upstream);
                        }
                        for (mut from, mut to) in pairs {
                            std::thread::spawn(move || {
                                let _ = std::io::copy(&mut from, &mut to);
                                let _ = to.shutdown(Shutdown::Both);
                                let _ = from.shutdown(Shutdown::Both);
                            });
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            // The listener is dropped here: the port refuses connections.
        }));
    }

    /// "PostgreSQL is down": the port refuses connections and every open
    /// connection is cut.
    pub fn stop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.join().unwrap();
        }
        for conn in self.conns.lock().unwrap().drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }

    /// "PostgreSQL is back", on the same port.
    pub fn restart(&mut self) {
        assert!(self.acceptor.is_none(), "the proxy is running");
        // The port was ours a moment ago; only a connection that happened
        // to get it as its ephemeral port could hold it, and not for long.
        let deadline = Instant::now() + Duration::from_secs(30);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("cannot listen on port {} again: {e}", self.port),
            }
        };
        self.serve(listener);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `host:port` a PostgreSQL URL names (5432 when it names none).
pub fn pg_target(url: &str) -> SocketAddr {
    let (_, authority) = split_authority(url);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let with_port = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    with_port
        .to_socket_addrs()
        .expect("a resolvable PostgreSQL host")
        .next()
        .expect("an address")
}

/// `url` with its `host:port` replaced by `127.0.0.1:port`.
pub fn with_port(url: &str, port: u16) -> String {
    let (scheme, authority) = split_authority(url);
    let rest = &url[scheme.len() + 3 + authority.len()..];
    let userinfo = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
    format!(
        "{scheme}://{}127.0.0.1:{port}{rest}",
        userinfo.unwrap_or_default()
    )
}

fn split_authority(url: &str) -> (&str, &str) {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    (scheme, &rest[..end])
}

// ---------------------------------------------------------------------------
// What the database holds

pub fn connect(url: &str) -> DbConnection {
    ConnectionManager::new(url)
        .establish()
        .expect("a direct connection to the test database")
}

/// Users, tokens (user id, digest, sealed key) and token events: enough to
/// tell that a request changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub users: Vec<(i32, String, bool)>,
    pub tokens: Vec<(i32, String, String)>,
    pub events: i64,
}

pub fn snapshot(conn: &mut DbConnection) -> Snapshot {
    Snapshot {
        users: users::table
            .select((users::id, users::username, users::is_active))
            .order(users::id)
            .load(conn)
            .unwrap(),
        tokens: tokens::table
            .select((tokens::user_id, tokens::digest, tokens::sealed))
            .order(tokens::user_id)
            .load(conn)
            .unwrap(),
        events: token_events::table.count().get_result(conn).unwrap(),
    }
}

/// Ids of users without a token.
pub fn users_without_token(conn: &mut DbConnection) -> Vec<i32> {
    users::table
        .left_join(tokens::table)
        .filter(tokens::user_id.is_null())
        .select(users::id)
        .load(conn)
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_rewritten_to_the_proxy() {
        assert_eq!(
            with_port("postgres://postgres@127.0.0.1:5432/db_1", 6000),
            "postgres://postgres@127.0.0.1:6000/db_1"
        );
        assert_eq!(
            with_port("postgresql://u:p@localhost/db?sslmode=disable", 6001),
            "postgresql://u:p@127.0.0.1:6001/db?sslmode=disable"
        );
        assert_eq!(
            pg_target("postgres://postgres@127.0.0.1:5432/x"),
            "127.0.0.1:5432".parse().unwrap()
        );
    }
}
