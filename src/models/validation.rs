//! Django's validation of usernames, e-mail addresses and passwords, with
//! Django's texts. Values are parsed once into types the rest trusts.

use unicode_normalization::UnicodeNormalization;

pub const USERNAME_MAX: usize = 150;
pub const EMAIL_MAX: usize = 254;

pub const MSG_USERNAME_INVALID: &str = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";
pub const MSG_USERNAME_TAKEN: &str = "A user with that username already exists.";
pub const MSG_USERNAME_TOO_LONG: &str = "Ensure this field has no more than 150 characters.";
pub const MSG_EMAIL_TOO_LONG: &str = "Ensure this field has no more than 254 characters.";
pub const MSG_EMAIL_INVALID: &str = "Enter a valid email address.";
pub const MSG_PASSWORD_TOO_SHORT: &str =
    "This password is too short. It must contain at least 8 characters.";
pub const MSG_PASSWORD_NUMERIC: &str = "This password is entirely numeric.";

/// A valid username, in NFKC form (Django's `normalize_username`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Django's `UnicodeUsernameValidator` (`^[\w.@+-]+\Z`) and the
    /// 150-character limit; every failing rule's message, in Django's order.
    pub fn parse(raw: &str) -> Result<Username, Vec<&'static str>> {
        let mut errors = Vec::new();
        if raw.is_empty() || !raw.chars().all(is_username_char) {
            errors.push(MSG_USERNAME_INVALID);
        }
        if raw.chars().count() > USERNAME_MAX {
            errors.push(MSG_USERNAME_TOO_LONG);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let normalized: String = raw.nfkc().collect();
        // NFKC can lengthen a name or change its characters.
        if normalized.chars().count() > USERNAME_MAX {
            return Err(vec![MSG_USERNAME_TOO_LONG]);
        }
        if !normalized.chars().all(is_username_char) {
            return Err(vec![MSG_USERNAME_INVALID]);
        }
        Ok(Username(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Python's `\w` in a `str` pattern (letters, digits, underscore in the
/// Unicode sense) plus `@.+-`.
fn is_username_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '@' | '.' | '+' | '-')
}

/// A valid e-mail address (or the empty one: e-mail is optional), with the
/// domain part lower-cased as Django's `normalize_email` does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, Vec<&'static str>> {
        if raw.is_empty() {
            return Ok(Email::default());
        }
        let mut errors = Vec::new();
        if raw.chars().count() > EMAIL_MAX {
            errors.push(MSG_EMAIL_TOO_LONG);
        }
        if !is_valid_email(raw) {
            errors.push(MSG_EMAIL_INVALID);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (user, domain) = raw.rsplit_once('@').expect("a valid address has an @");
        Ok(Email(format!("{user}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Django's `EmailValidator`: a dot-atom or quoted user part; a domain of
/// dot-separated labels ending in a 2+ character TLD, `localhost`, or an IP
/// literal in brackets. Non-ASCII domains are accepted where their labels
/// are letters and digits (Django tries them as IDNA).
fn is_valid_email(value: &str) -> bool {
    if value.chars().count() > 320 {
        return false;
    }
    let Some((user, domain)) = value.rsplit_once('@') else {
        return false;
    };
    is_valid_email_user(user) && is_valid_email_domain(domain)
}

fn is_valid_email_user(user: &str) -> bool {
    const ATOM_SPECIALS: &str = "-!#$%&'*+/=?^_`{}|~";
    let is_atom_char = |c: char| c.is_ascii_alphanumeric() || ATOM_SPECIALS.contains(c);
    if let Some(quoted) = user.strip_prefix('"').and_then(|u| u.strip_suffix('"')) {
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e) if matches!(e as u32, 1..=9 | 11 | 12 | 14..=127) => {}
                    _ => return false,
                },
                '"' => return false,
                c if matches!(c as u32, 1..=8 | 11 | 12 | 14..=31 | 33 | 35..=91 | 93..=127) => {}
                _ => return false,
            }
        }
        return true;
    }
    !user.is_empty()
        && user
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atom_char))
}

fn is_valid_email_domain(domain: &str) -> bool {
    if domain == "localhost" {
        return true;
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let literal = literal.strip_prefix("IPv6:").unwrap_or(literal);
        return literal.parse::<std::net::IpAddr>().is_ok();
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let (tld, rest) = labels.split_last().expect("two labels at least");
    let label_ok = |l: &str| {
        let n = l.chars().count();
        (1..=63).contains(&n)
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let tld_len = tld.chars().count();
    rest.iter().all(|l| label_ok(l))
        && (2..=63).contains(&tld_len)
        && tld.chars().all(|c| c.is_alphanumeric() || c == '-')
        && !tld.ends_with('-')
}

/// The password rules of API.md (Django's minimum length and numeric
/// validators), every failing rule's message in that order.
pub fn password_problems(password: &str) -> Vec<&'static str> {
    let mut errors = Vec::new();
    if password.chars().count() < 8 {
        errors.push(MSG_PASSWORD_TOO_SHORT);
    }
    // Python's str.isdigit(): any Unicode decimal digit.
    if !password.is_empty() && password.chars().all(|c| c.is_numeric()) {
        errors.push(MSG_PASSWORD_NUMERIC);
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("alice").unwrap().as_str(), "alice");
        assert!(Username::parse("a.b@c+d-e_f").is_ok());
        assert!(Username::parse("Zoë").is_ok());
        assert!(Username::parse("用户").is_ok());
        assert_eq!(Username::parse("a b"), Err(vec![MSG_USERNAME_INVALID]));
        assert_eq!(Username::parse("a!"), Err(vec![MSG_USERNAME_INVALID]));
        assert_eq!(
            Username::parse(&"a".repeat(151)),
            Err(vec![MSG_USERNAME_TOO_LONG])
        );
        assert_eq!(
            Username::parse(&"!".repeat(151)),
            Err(vec![MSG_USERNAME_INVALID, MSG_USERNAME_TOO_LONG])
        );
        assert!(Username::parse(&"a".repeat(150)).is_ok());
        // NFKC: the ligature "ﬁ" becomes "fi".
        assert_eq!(Username::parse("ﬁx").unwrap().as_str(), "fix");
    }

    #[test]
    fn emails() {
        assert_eq!(Email::parse("").unwrap().as_str(), "");
        assert_eq!(
            Email::parse("Bob.Smith@Example.COM").unwrap().as_str(),
            "Bob.Smith@example.com"
        );
        assert!(Email::parse("a@localhost").is_ok());
        assert!(Email::parse("a@[127.0.0.1]").is_ok());
        assert!(Email::parse("\"a..b\"@example.com").is_ok());
        // Django allows no space even in a quoted user part.
        assert!(Email::parse("\"a b\"@example.com").is_err());
        for bad in [
            "plain",
            "a@b",
            "a@.com",
            "a@-x.com",
            "@example.com",
            "a..b@example.com",
            "a@example.c",
            "a b@example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(vec![MSG_EMAIL_INVALID]), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(password_problems("correct horse").is_empty());
        assert_eq!(password_problems("short"), vec![MSG_PASSWORD_TOO_SHORT]);
        assert_eq!(password_problems("12345678"), vec![MSG_PASSWORD_NUMERIC]);
        assert_eq!(
            password_problems("1234"),
            vec![MSG_PASSWORD_TOO_SHORT, MSG_PASSWORD_NUMERIC]
        );
    }
}
