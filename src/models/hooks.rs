//! Post-insert hooks on users: Django's `post_save(created=True)` receivers.
//! They run inside the transaction that inserts the user, so a failing hook
//! means the user is not created.

use std::sync::Arc;

use super::User;
use crate::db::{DbConnection, DbError};

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Failed(String),
}

/// Who caused a change: a username, or `cli` / `system`. Recorded in token events.
pub type Actor<'a> = &'a str;

type Hook = dyn Fn(&mut DbConnection, &User, Actor<'_>) -> Result<(), HookError> + Send + Sync;

/// The registered post-insert hooks, run in registration order.
#[derive(Clone, Default)]
pub struct UserHooks {
    hooks: Vec<(&'static str, Arc<Hook>)>,
}

impl UserHooks {
    pub fn new() -> UserHooks {
        UserHooks::default()
    }

    pub fn register(
        &mut self,
        name: &'static str,
        hook: impl Fn(&mut DbConnection, &User, Actor<'_>) -> Result<(), HookError>
        + Send
        + Sync
        + 'static,
    ) -> &mut Self {
        self.hooks.push((name, Arc::new(hook)));
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.hooks.iter().map(|(name, _)| *name).collect()
    }

    pub(super) fn run(
        &self,
        conn: &mut DbConnection,
        user: &User,
        actor: Actor<'_>,
    ) -> Result<(), (&'static str, HookError)> {
        for (name, hook) in &self.hooks {
            hook(conn, user, actor).map_err(|e| (*name, e))?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for UserHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
