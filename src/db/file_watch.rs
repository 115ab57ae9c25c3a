//! Whether a database file may have moved since a connection opened it,
//! told by an inotify watch on its folder and on that folder's parent
//! instead of a `statx` of the path at every token check (2.6 % of the
//! server's CPU in the profile of `me/`, BENCHMARKS.md). The kernel queues
//! a `rename`'s or `unlink`'s event before the call returns, so a check
//! that finds the queue empty knows that nothing in those folders moved —
//! the very next request after a move sees it, as with the `statx`. A move
//! further up the tree is not seen here; the pool's own check still sees
//! it. Where inotify is missing, every check answers "maybe".

use std::path::Path;

pub struct FileWatch {
    #[cfg(target_os = "linux")]
    inotify: Option<inotify::Inotify>,
}

impl FileWatch {
    /// Watches the folders of `path`. Start it before reading the file's
    /// identity, so that no move between the two goes unseen.
    pub fn new(path: &str) -> FileWatch {
        #[cfg(target_os = "linux")]
        {
            FileWatch {
                inotify: watch(Path::new(path))
                    .map_err(|e| log::debug!("no inotify watch for the database: {e}"))
                    .ok(),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = path;
            FileWatch {}
        }
    }

    /// True when something was created, deleted or moved in the watched
    /// folders since the last call (or there is no watch): the caller then
    /// compares the file's identity. Drains what was queued.
    pub fn maybe_moved(&mut self) -> bool {
        #[cfg(target_os = "linux")]
        {
            let Some(inotify) = self.inotify.as_mut() else {
                return true;
            };
            let mut buffer = [0u8; 1024];
            let mut seen = false;
            loop {
                match inotify.read_events(&mut buffer) {
                    Ok(mut events) => seen |= events.next().is_some(),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return seen,
                    // Anything else: do not trust the watch.
                    Err(_) => return true,
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        true
    }
}

#[cfg(target_os = "linux")]
fn watch(path: &Path) -> std::io::Result<inotify::Inotify> {
    use inotify::{Inotify, WatchMask};
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder = std::fs::canonicalize(folder)?;
    let mask = WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MOVED_FROM
        | WatchMask::MOVED_TO
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF;
    let inotify = Inotify::init()?;
    inotify.watches().add(&folder, mask)?;
    if let Some(parent) = folder.parent() {
        inotify.watches().add(parent, mask)?;
    }
    Ok(inotify)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_move_is_seen_by_the_next_check_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.sqlite3");
        std::fs::write(&file, b"x").unwrap();
        let mut watch = FileWatch::new(file.to_str().unwrap());
        assert!(!watch.maybe_moved(), "nothing happened yet");
        std::fs::write(&file, b"written in place").unwrap();
        assert!(!watch.maybe_moved(), "a write is no move");
        let away = dir.path().join("away.sqlite3");
        std::fs::rename(&file, &away).unwrap();
        assert!(watch.maybe_moved(), "seen at once, no waiting");
        assert!(!watch.maybe_moved(), "drained");
        std::fs::rename(&away, &file).unwrap();
        assert!(watch.maybe_moved());
        // The folder itself renamed (a restore from a backup).
        let moved_dir = dir.path().with_extension("moved");
        std::fs::rename(dir.path(), &moved_dir).unwrap();
        assert!(watch.maybe_moved());
        std::fs::rename(&moved_dir, dir.path()).unwrap();
    }
}
