//! The import with a progress bar on stderr when it is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::import::{self, ImportError, Options, Summary};
use crate::services::Domain;

pub fn run(
    state: &Domain,
    data: import::DjangoData,
    dry_run: bool,
) -> Result<Summary, ImportError> {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} users {elapsed}") {
        bar.set_style(style);
    }
    let started = |n: usize| bar.set_length(n as u64);
    let progress = |n: usize| bar.set_position(n as u64);
    let options = Options {
        dry_run,
        started: &started,
        progress: &progress,
    };
    let summary = import::import_django(&state.db, &state.tokens, data, &options);
    bar.finish_and_clear();
    summary
}
