//! The operator password: Argon2id PHC string in the settings table. Hashing and verifying
//! run on blocking threads, at most [`ARGON2_CONCURRENCY`] at once, never on a tokio worker.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use microclaw_core::Error;
use microclaw_store::Store;
use tokio::sync::Semaphore;

pub const PASSWORD_SETTING: &str = "operator_password_hash";
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Argon2 jobs running at once (each takes ~19 MiB and tens of ms of one core).
pub const ARGON2_CONCURRENCY: usize = 2;

static ARGON2_PERMITS: Semaphore = Semaphore::const_new(ARGON2_CONCURRENCY);

pub fn validate_new(password: &str) -> Result<(), Error> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(format!(
            "password is {n} characters long: expected at least {MIN_PASSWORD_CHARS}"
        )));
    }
    if n > 1024 {
        return Err(Error::invalid("password is longer than 1024 characters"));
    }
    Ok(())
}

/// Hashes on the calling thread (offline CLI, or inside [`hash_async`]).
pub fn hash(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))
}

/// True when `password` matches the PHC string `phc`.
pub fn verify_phc(phc: &str, password: &str) -> Result<bool, Error> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| Error::internal(format!("stored password hash is corrupt: {e}")))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// Runs an Argon2 job on a blocking thread once a permit is free.
async fn on_argon2_thread<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let _permit = ARGON2_PERMITS
        .acquire()
        .await
        .map_err(|_| Error::unavailable("password hashing is shutting down"))?;
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| Error::internal(format!("a password hashing task failed: {e}")))?
}

pub async fn hash_async(password: &str) -> Result<String, Error> {
    let pw = password.to_string();
    on_argon2_thread(move || hash(&pw)).await
}

pub async fn verify_async(phc: String, password: &str) -> Result<bool, Error> {
    let pw = password.to_string();
    on_argon2_thread(move || verify_phc(&phc, &pw)).await
}

/// True once a password is stored (read from the database: a password set by another
/// process counts).
pub fn has_password(store: &Store) -> Result<bool, Error> {
    Ok(store.setting_get(PASSWORD_SETTING)?.is_some())
}

pub async fn has_password_async(store: &Store) -> Result<bool, Error> {
    store.read_async(has_password).await
}
