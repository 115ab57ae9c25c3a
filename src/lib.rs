//! authtoken: Django REST framework's token authentication, byte-compatible
//! on the wire, with admin pages and operator commands.

pub mod admin;
pub mod alloc;
pub mod api;
pub mod auth;
pub mod cli;
pub mod crypto;
pub mod db;
pub mod http;
pub mod import;
pub mod logging;
pub mod metrics;
pub mod models;
pub mod schema;
pub mod services;
pub mod settings;
pub mod startup;
pub mod state;

pub use settings::Settings;
pub use startup::Application;
