//! What an import would do: each Django user is added, updated or left
//! unchanged, or is a conflict. "Changed" is judged against what the last
//! import took from the source (`django_imports`), never against the target
//! user as they are now: a hash upgraded at sign-in or a key created here
//! stays unless Django changed that same field.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::NaiveDateTime;

use super::source::{DjangoData, DjangoUser};
use crate::crypto::django_hash;
use crate::models::imported::{self, ImportRecord, ImportedUser, UserChanges};
use crate::models::{TokenKey, UserId};

/// A source row the import cannot take as it is.
#[derive(Debug, thiserror::Error)]
pub enum BadRow {
    #[error("auth_user id {0} does not fit a 32-bit id")]
    IdOutOfRange(i64),
    #[error("the authtoken_token key of auth_user id {0} is not a usable key")]
    BadKey(i64),
}

/// A Django user that the target already has under another origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub django_id: i64,
    pub django_username: String,
    pub target_id: UserId,
    pub target_username: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conflict: Django user {} ({:?}) meets target user {} ({:?}), which no import created",
            self.django_id, self.django_username, self.target_id, self.target_username
        )
    }
}

/// One Django user with their token, as the import would write them.
pub struct Incoming {
    pub user: ImportedUser,
    pub token: Option<(TokenKey, NaiveDateTime)>,
    pub record: ImportRecord,
}

/// What happens to a changed user's token.
pub enum TokenChange {
    /// The source's key (new or different) becomes the user's key.
    Put(TokenKey, NaiveDateTime),
    /// The key was deleted in Django: the imported key goes too (a key
    /// created here since stays).
    Revoke(crate::models::Digest),
}

pub struct Update {
    pub id: UserId,
    pub changes: UserChanges,
    pub token: Option<TokenChange>,
    pub record: ImportRecord,
}

/// The whole import, computed before anything is written.
#[derive(Default)]
pub struct Plan {
    pub users: usize,
    pub with_tokens: usize,
    pub added: Vec<Incoming>,
    pub updated: Vec<Update>,
    pub unchanged: usize,
    pub conflicts: Vec<Conflict>,
    /// Hashes no password can verify here, by Django's algorithm name.
    pub unverifiable: BTreeMap<String, usize>,
}

/// The summary line: `imported N users (T with tokens): A added, U updated,
/// S unchanged[; unverifiable: <algorithm> <count>, …]`.
pub struct Summary {
    pub users: usize,
    pub with_tokens: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub unverifiable: BTreeMap<String, usize>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported {} users ({} with tokens): {} added, {} updated, {} unchanged",
            self.users, self.with_tokens, self.added, self.updated, self.unchanged
        )?;
        if !self.unverifiable.is_empty() {
            let list: Vec<String> = self
                .unverifiable
                .iter()
                .map(|(name, count)| format!("{name} {count}"))
                .collect();
            write!(f, "; unverifiable: {}", list.join(", "))?;
        }
        Ok(())
    }
}

impl Plan {
    pub fn summary(&self) -> Summary {
        Summary {
            users: self.users,
            with_tokens: self.with_tokens,
            added: self.added.len(),
            updated: self.updated.len(),
            unchanged: self.unchanged,
            unverifiable: self.unverifiable.clone(),
        }
    }
}

/// Compares the source with the target's users and import records.
pub fn plan(
    source: DjangoData,
    targets: Vec<(UserId, String)>,
    records: Vec<ImportRecord>,
    now: NaiveDateTime,
) -> Result<Plan, BadRow> {
    let by_id: HashMap<UserId, String> = targets.iter().cloned().collect();
    let by_name: HashMap<String, UserId> = targets.into_iter().map(|(id, n)| (n, id)).collect();
    let records: HashMap<UserId, ImportRecord> =
        records.into_iter().map(|r| (r.user_id, r)).collect();
    let mut tokens: HashMap<i64, (String, NaiveDateTime)> = source
        .tokens
        .into_iter()
        .map(|t| (t.user_id, (t.key, t.created)))
        .collect();
    let mut plan = Plan {
        users: source.users.len(),
        ..Plan::default()
    };
    for django in source.users {
        let token = match tokens.remove(&django.id) {
            Some((key, created)) => Some((
                TokenKey::existing(key).ok_or(BadRow::BadKey(django.id))?,
                created,
            )),
            None => None,
        };
        plan.with_tokens += usize::from(token.is_some());
        count_unverifiable(&mut plan.unverifiable, &django.password);
        let incoming = incoming(django, token, now)?;
        let id = incoming.user.id;
        let name = &incoming.user.username;
        // Another target user holding the username, which no import made.
        let name_taken_by = by_name
            .get(name)
            .filter(|&&holder| holder != id && !records.contains_key(&holder));
        let conflict_with = match records.get(&id) {
            Some(_) => name_taken_by.copied(),
            None if by_id.contains_key(&id) => Some(id),
            None => name_taken_by.copied(),
        };
        if let Some(target_id) = conflict_with {
            plan.conflicts.push(Conflict {
                django_id: id.get().into(),
                django_username: name.clone(),
                target_id,
                target_username: by_id.get(&target_id).cloned().unwrap_or_default(),
            });
            continue;
        }
        match records.get(&id) {
            None => plan.added.push(incoming),
            Some(last) if last.same_source(&incoming.record) => plan.unchanged += 1,
            Some(last) => plan.updated.push(update(last, incoming)),
        }
    }
    Ok(plan)
}

fn count_unverifiable(counts: &mut BTreeMap<String, usize>, hash: &str) {
    if hash.starts_with(django_hash::UNUSABLE_PASSWORD_PREFIX) || django_hash::is_verifiable(hash) {
        return;
    }
    let name = django_hash::algorithm(hash).unwrap_or("unknown");
    *counts.entry(name.to_string()).or_default() += 1;
}

fn incoming(
    django: DjangoUser,
    token: Option<(TokenKey, NaiveDateTime)>,
    now: NaiveDateTime,
) -> Result<Incoming, BadRow> {
    let id = i32::try_from(django.id).map_err(|_| BadRow::IdOutOfRange(django.id))?;
    let id = UserId::new(id);
    let record = ImportRecord {
        user_id: id,
        username: django.username.clone(),
        email: django.email.clone(),
        first_name: django.first_name.clone(),
        last_name: django.last_name.clone(),
        password_digest: imported::password_digest(&django.password),
        is_active: django.is_active,
        is_staff: django.is_staff,
        is_superuser: django.is_superuser,
        date_joined: django.date_joined,
        last_login: django.last_login,
        token_digest: token.as_ref().map(|(k, _)| k.digest().as_str().to_owned()),
        token_created: token.as_ref().map(|(_, created)| *created),
        imported_at: now,
    };
    let user = ImportedUser {
        id,
        username: django.username,
        email: django.email,
        first_name: django.first_name,
        last_name: django.last_name,
        password_hash: django.password,
        is_active: django.is_active,
        is_staff: django.is_staff,
        is_superuser: django.is_superuser,
        date_joined: django.date_joined,
        last_login: django.last_login,
    };
    Ok(Incoming {
        user,
        token,
        record,
    })
}

/// Only the fields Django changed since `last` are written.
fn update(last: &ImportRecord, new: Incoming) -> Update {
    let Incoming {
        user,
        token,
        record,
    } = new;
    fn changed<T: PartialEq>(old: &T, new: T) -> Option<T> {
        (*old != new).then_some(new)
    }
    let changes = UserChanges {
        username: changed(&last.username, user.username),
        email: changed(&last.email, user.email),
        first_name: changed(&last.first_name, user.first_name),
        last_name: changed(&last.last_name, user.last_name),
        password_hash: (last.password_digest != record.password_digest)
            .then_some(user.password_hash),
        is_active: changed(&last.is_active, user.is_active),
        is_staff: changed(&last.is_staff, user.is_staff),
        is_superuser: changed(&last.is_superuser, user.is_superuser),
        date_joined: changed(&last.date_joined, user.date_joined),
        last_login: changed(&last.last_login, user.last_login),
    };
    let token_changed =
        last.token_digest != record.token_digest || last.token_created != record.token_created;
    let token = match (token_changed, token, &last.token_digest) {
        (false, _, _) => None,
        (true, Some((key, created)), _) => Some(TokenChange::Put(key, created)),
        (true, None, Some(old)) => {
            Some(TokenChange::Revoke(crate::models::Digest::from_stored(old)))
        }
        (true, None, None) => None,
    };
    Update {
        id: user.id,
        changes,
        token,
        record,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_lists_unverifiable_algorithms_by_name() {
        let mut summary = Summary {
            users: 5,
            with_tokens: 4,
            added: 3,
            updated: 1,
            unchanged: 1,
            unverifiable: BTreeMap::new(),
        };
        assert_eq!(
            summary.to_string(),
            "imported 5 users (4 with tokens): 3 added, 1 updated, 1 unchanged"
        );
        let mut counts = BTreeMap::new();
        for hash in [
            "sha1$s$abc",
            "crypt$$ab12",
            "sha1$t$def",
            "!unusable",
            "0123456789abcdef0123456789abcdef",
        ] {
            count_unverifiable(&mut counts, hash);
        }
        summary.unverifiable = counts;
        assert_eq!(
            summary.to_string(),
            "imported 5 users (4 with tokens): 3 added, 1 updated, 1 unchanged; \
             unverifiable: crypt 1, sha1 2, unsalted_md5 1"
        );
    }
}
