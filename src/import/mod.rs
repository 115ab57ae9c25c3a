//! `authtoken import-django`: moving users and DRF tokens from a Django
//! database (API.md, "Moving from Django REST framework").
//!
//! [`source`] reads the Django database; the password hashes it holds are
//! verified by [`crate::crypto::django_hash`].

pub mod source;

pub use source::{DjangoData, DjangoSource, DjangoToken, DjangoUser, SourceError, SourceUrl};
