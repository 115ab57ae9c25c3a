//! Recovery codes for a lost authenticator: 10 per user, shown once, stored
//! as SHA-256 digests, each deleted when used.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::{Digest as _, Sha256};

use super::UserId;
use crate::db::{DbConnection, DbError};
use crate::schema::recovery_codes;

pub const COUNT: usize = 10;
/// Lower-case letters and digits without the easily confused `0 1 i l o`.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// 10 characters of 31: about 49 bits, behind the sign-in throttle.
const LEN: usize = 10;

/// A new code, `xxxxx-xxxxx`.
fn generate() -> String {
    let mut out = String::with_capacity(LEN + 1);
    let mut bytes = [0u8; 1];
    while out.len() < LEN + 1 {
        if out.len() == LEN / 2 {
            out.push('-');
            continue;
        }
        SysRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random generator failed");
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        if usize::from(bytes[0]) < limit {
            out.push(char::from(ALPHABET[usize::from(bytes[0]) % ALPHABET.len()]));
        }
    }
    out
}

/// The code as typed, reduced to what counts: no spaces or dashes, lower case.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn digest(code: &str) -> String {
    hex::encode(Sha256::digest(normalize(code).as_bytes()))
}

/// Whether `code` looks like a recovery code rather than a TOTP code.
pub fn looks_like_one(code: &str) -> bool {
    normalize(code).len() == LEN
}

/// Replaces the user's codes by 10 new ones, returned (to be shown once).
pub fn replace(
    conn: &mut DbConnection,
    user: UserId,
    now: NaiveDateTime,
) -> Result<Vec<String>, DbError> {
    delete_all(conn, user)?;
    let codes: Vec<String> = (0..COUNT).map(|_| generate()).collect();
    // One insert each: multi-row inserts do not compile through the MultiConnection.
    for code in &codes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user),
                recovery_codes::digest.eq(digest(code)),
                recovery_codes::created.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(codes)
}

/// Uses up `code` if it is one of the user's unused codes: one delete, so
/// the same code cannot be used twice, even at once.
pub fn use_code(conn: &mut DbConnection, user: UserId, code: &str) -> Result<bool, DbError> {
    if !looks_like_one(code) {
        return Ok(false);
    }
    let id: Option<i32> = recovery_codes::table
        .filter(recovery_codes::user_id.eq(user))
        .filter(recovery_codes::digest.eq(digest(code)))
        .select(recovery_codes::id)
        .first(conn)
        .optional()?;
    let Some(id) = id else {
        return Ok(false);
    };
    Ok(diesel::delete(recovery_codes::table.find(id)).execute(conn)? == 1)
}

/// How many unused codes the user has.
pub fn remaining(conn: &mut DbConnection, user: UserId) -> Result<i64, DbError> {
    Ok(recovery_codes::table
        .filter(recovery_codes::user_id.eq(user))
        .count()
        .get_result(conn)?)
}

pub fn delete_all(conn: &mut DbConnection, user: UserId) -> Result<usize, DbError> {
    Ok(
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user)))
            .execute(conn)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_random_and_typed_loosely() {
        let a = generate();
        assert_eq!(a.len(), 11);
        assert_eq!(a.as_bytes()[5], b'-');
        assert_ne!(a, generate());
        assert!(looks_like_one(&a));
        assert!(!looks_like_one("123456"));
        assert_eq!(
            digest(&a),
            digest(&format!(" {} ", a.to_uppercase().replace('-', " ")))
        );
    }
}
