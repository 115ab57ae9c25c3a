//! The operator commands of the one `authtoken` binary.

mod import_progress;
mod staff_account;

use std::io::{self, IsTerminal, Write};
use std::net::TcpListener;

use clap::{Args, Parser, Subcommand};
use diesel::Connection;

use crate::auth::PasswordHasher;
use crate::db::DbError;
use crate::import::{self, ImportError};
use crate::models::audit::{self, AuditAction, Origin, Subject};
use crate::models::validation::{Email, Username, password_problems};
use crate::models::{CreateUserError, NewUser, User, clock, users};
use crate::services::{Domain, cause_chain};
use crate::settings::Settings;
use crate::startup::{Application, StartupError, prepare};

#[derive(Debug, Parser)]
#[command(
    name = "authtoken",
    version,
    about = "DRF-compatible token authentication server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Create a staff superuser; the password comes from AUTHTOKEN_PASSWORD or a prompt.
    Createsuperuser {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "")]
        email: String,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Print a user's token, creating it if needed (DRF's drf_create_token).
    #[command(name = "drf_create_token")]
    DrfCreateToken {
        username: String,
        /// Replace the user's token with a new one.
        #[arg(short = 'r', long = "reset")]
        reset: bool,
    },
    /// Copy users and DRF tokens from a Django database (SQLite path or postgres://…).
    #[command(name = "import-django")]
    ImportDjango {
        /// The Django database: a SQLite path, sqlite://path or postgres://…
        source: String,
        /// Print the summary and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password comes from AUTHTOKEN_PASSWORD or a prompt.
    Create(CreateUser),
    /// Let a user sign in again.
    Activate { username: String },
    /// Stop a user from signing in; their token stops working at once.
    Deactivate { username: String },
    /// List users, one a line: id, username, e-mail, active, staff, token prefix.
    List,
    /// Turn off a user's two-factor sign-in (a lost device); ends their admin sessions.
    #[command(name = "reset-2fa")]
    ResetTwoFactor { username: String },
    /// Set a user's password (from AUTHTOKEN_PASSWORD or a prompt); ends their admin sessions.
    SetPassword { username: String },
}

#[derive(Debug, Args)]
pub struct CreateUser {
    username: String,
    #[arg(long, default_value = "")]
    email: String,
    /// Make the user staff (admin pages).
    #[arg(long)]
    staff: bool,
    /// Make the user a superuser (implies --staff).
    #[arg(long)]
    superuser: bool,
}

/// A command's failure: printed as one line on stderr, exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("CommandError: {0}")]
    Failed(String),
    #[error("{0}")]
    Startup(#[from] StartupError),
    #[error("CommandError: {0}")]
    Io(#[from] io::Error),
    /// Conflicts are listed one a line before the closing line.
    #[error("{}", import_message(.0))]
    Import(#[from] ImportError),
}

fn import_message(error: &ImportError) -> String {
    let mut lines: Vec<String> = match error {
        ImportError::Conflicts(conflicts) => conflicts.iter().map(|c| c.to_string()).collect(),
        _ => Vec::new(),
    };
    lines.push(format!("CommandError: {}", cause_chain(error)));
    lines.join("\n")
}

impl CommandError {
    /// 2 for a configuration problem (like a bad setting), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Startup(StartupError::Secret(_)) => 2,
            _ => 1,
        }
    }
}

impl From<DbError> for CommandError {
    fn from(e: DbError) -> Self {
        CommandError::Failed(cause_chain(&e))
    }
}

impl From<diesel::result::Error> for CommandError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<CreateUserError> for CommandError {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::UsernameTaken => {
                CommandError::Failed("That username is already taken.".into())
            }
            other => CommandError::Failed(cause_chain(&other)),
        }
    }
}

impl crate::db::AsOutage for CommandError {
    fn is_outage(&self) -> bool {
        false
    }
}

/// Who the command line acts as, in token events.
const ACTOR: &str = "cli";

pub async fn serve(settings: Settings) -> Result<(), CommandError> {
    // Catch SIGTERM from here on. actix installs its own handler only when
    // the server first runs, after its workers have started taking
    // requests: a SIGTERM in between would kill the process (exit by
    // signal, requests cut) instead of a graceful stop and exit code 0.
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let listener = TcpListener::bind(&settings.bind).map_err(|source| StartupError::Bind {
        addr: settings.bind.clone(),
        source,
    })?;
    // The address actually bound: `BIND=127.0.0.1:0` lets the OS pick a port.
    let bound = listener
        .local_addr()
        .map_or_else(|_| settings.bind.clone(), |a| a.to_string());
    let app = Application::build(settings.clone(), listener)?;
    log::info!(
        "authtoken listening on http://{bound} ({:?} database)",
        settings.backend()
    );
    let server = app.server().handle();
    actix_web::rt::spawn(async move {
        if sigterm.recv().await.is_some() {
            server.stop(true).await;
        }
    });
    Ok(app.run_until_stopped().await?)
}

/// Runs a command that does not serve. Output goes to `out`.
pub fn run(command: Command, settings: Settings, out: &mut dyn Write) -> Result<(), CommandError> {
    // The source is read before the target is touched (migrated, or given
    // a SECRET_KEY file): a bad source changes nothing.
    let django = match &command {
        Command::ImportDjango { source, .. } => {
            Some(import::source::read(source).map_err(ImportError::from)?)
        }
        _ => None,
    };
    let secret = prepare(&settings)?;
    if matches!(command, Command::Migrate) {
        writeln!(out, "Migrations are up to date.")?;
        return Ok(());
    }
    let state = Domain::new(&settings, &secret);
    let db = &state.db;
    match command {
        Command::Serve | Command::Migrate => unreachable!("handled above"),
        Command::Createsuperuser { username, email } => {
            let new = new_user(&state.hasher, &username, &email, true, true)?;
            create_user(&state, &new)?;
            writeln!(out, "Superuser created successfully.")?;
        }
        Command::User(UserCommand::Create(args)) => {
            let staff = args.staff || args.superuser;
            let new = new_user(
                &state.hasher,
                &args.username,
                &args.email,
                staff,
                args.superuser,
            )?;
            let user = create_user(&state, &new)?;
            writeln!(out, "Created user {} (id {}).", user.username, user.id)?;
        }
        Command::User(UserCommand::Activate { username }) => {
            set_active(&state, &username, true)?;
            writeln!(out, "Activated user {username}.")?;
        }
        Command::User(UserCommand::Deactivate { username }) => {
            set_active(&state, &username, false)?;
            writeln!(out, "Deactivated user {username}.")?;
        }
        Command::User(UserCommand::ResetTwoFactor { username }) => {
            if staff_account::reset_two_factor(&state, &username)? {
                writeln!(
                    out,
                    "Turned off two-factor sign-in for user {username}; their admin sessions ended."
                )?;
            } else {
                writeln!(out, "User {username} does not have two-factor sign-in on.")?;
            }
        }
        Command::User(UserCommand::SetPassword { username }) => {
            staff_account::set_password(&state, &username)?;
            writeln!(
                out,
                "Set a new password for user {username}; their admin sessions ended."
            )?;
        }
        Command::User(UserCommand::List) => {
            let rows = db.run(|conn| {
                let all = users::all(conn)?;
                let mut rows = Vec::with_capacity(all.len());
                for user in all {
                    let token = state.tokens.find(conn, user.id)?;
                    rows.push((user, token));
                }
                Ok::<_, CommandError>(rows)
            })?;
            writeln!(out, "id\tusername\temail\tactive\tstaff\ttoken")?;
            for (user, token) in rows {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    user.id,
                    user.username,
                    user.email,
                    yes_no(user.is_active),
                    yes_no(user.is_staff),
                    token.map_or_else(|| "-".to_string(), |t| format!("{}…", t.prefix)),
                )?;
            }
        }
        Command::ImportDjango { dry_run, .. } => {
            let data = django.expect("read above");
            let summary = import_progress::run(&state, data, dry_run)?;
            writeln!(out, "{summary}")?;
        }
        Command::DrfCreateToken { username, reset } => {
            let key = db.run(|conn| {
                conn.transaction(|conn| {
                    audit::lock_for_writing(conn)?;
                    let user = users::find_by_username(conn, &username)?.ok_or_else(|| {
                        CommandError::Failed(format!(
                            "Cannot create the Token: user {username} does not exist"
                        ))
                    })?;
                    let before = state.tokens.find(conn, user.id)?.map(|t| t.digest);
                    let key = if reset {
                        state.tokens.regenerate(conn, user.id, ACTOR)?
                    } else {
                        state.tokens.get_or_create(conn, user.id, ACTOR)?
                    };
                    let after = state.tokens.find(conn, user.id)?.map(|t| t.digest);
                    // An existing key printed again changed nothing.
                    let action = match before {
                        None => Some(AuditAction::TokenCreated),
                        Some(old) if Some(&old) != after.as_ref() => {
                            Some(AuditAction::TokenRegenerated)
                        }
                        Some(_) => None,
                    };
                    if let Some(action) = action {
                        let subject = Some(Subject::of(&user));
                        audit::record(conn, &Origin::cli(), action, subject, "", clock::now())?;
                    }
                    Ok::<_, CommandError>(key)
                })
            })?;
            writeln!(
                out,
                "Generated token {} for user {}",
                key.as_str(),
                username
            )?;
        }
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn set_active(state: &Domain, username: &str, active: bool) -> Result<(), CommandError> {
    state.db.run(|conn| {
        conn.transaction(|conn| {
            audit::lock_for_writing(conn)?;
            let user = users::find_by_username(conn, username)?
                .ok_or_else(|| CommandError::Failed(format!("user {username} does not exist")))?;
            users::set_active(conn, user.id, active)?;
            if !active {
                crate::models::admin_sessions::delete_for_user(conn, user.id)?;
            }
            audit::record_activation(conn, &Origin::cli(), &user, active)?;
            Ok::<_, CommandError>(())
        })
    })
}

/// Creates the user (the hooks give them a token) and records
/// `user_created`, in one transaction.
fn create_user(state: &Domain, new: &NewUser) -> Result<User, CommandError> {
    state.db.run(|conn| {
        conn.transaction(|conn| {
            let user = users::create_user(conn, &state.hooks, new, ACTOR)?;
            let subject = Some(Subject::of(&user));
            let (origin, action) = (Origin::cli(), AuditAction::UserCreated);
            audit::record(conn, &origin, action, subject, "", clock::now())?;
            Ok::<_, CommandError>(user)
        })
    })
}

fn new_user(
    hasher: &PasswordHasher,
    username: &str,
    email: &str,
    is_staff: bool,
    is_superuser: bool,
) -> Result<NewUser, CommandError> {
    let invalid = |messages: Vec<&str>| CommandError::Failed(messages.join(" "));
    let username = Username::parse(username.trim()).map_err(invalid)?;
    let email = Email::parse(email.trim()).map_err(invalid)?;
    let password = read_password()?;
    let problems = password_problems(&password);
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let password_hash = hasher
        .hash_blocking(&password)
        .map_err(|e| CommandError::Failed(cause_chain(&e)))?;
    Ok(NewUser {
        username,
        email,
        password_hash,
        is_active: true,
        is_staff,
        is_superuser,
    })
}

/// `AUTHTOKEN_PASSWORD`, else a prompt (twice) on the terminal.
fn read_password() -> Result<String, CommandError> {
    if let Ok(password) = std::env::var("AUTHTOKEN_PASSWORD") {
        return Ok(password);
    }
    if !io::stdin().is_terminal() {
        return Err(CommandError::Failed(
            "no password: set AUTHTOKEN_PASSWORD or run in a terminal".into(),
        ));
    }
    let first = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Password (again): ")?;
    if first != again {
        return Err(CommandError::Failed("Your passwords didn't match.".into()));
    }
    Ok(first)
}
