//! The operator password: Argon2id PHC string in the settings table.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use microclaw_core::Error;
use microclaw_store::Store;

pub const PASSWORD_SETTING: &str = "operator_password_hash";
pub const MIN_PASSWORD_CHARS: usize = 12;

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

pub fn hash(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))
}

pub fn has_password(store: &Store) -> Result<bool, Error> {
    Ok(store.setting_get(PASSWORD_SETTING)?.is_some())
}

/// Validates, hashes and stores a new password.
pub fn set(store: &Store, password: &str) -> Result<(), Error> {
    validate_new(password)?;
    store.setting_set(PASSWORD_SETTING, &hash(password)?)
}

/// True when `password` matches the stored hash (false when none is set).
pub fn verify(store: &Store, password: &str) -> Result<bool, Error> {
    let Some(phc) = store.setting_get(PASSWORD_SETTING)? else {
        return Ok(false);
    };
    let parsed = PasswordHash::new(&phc)
        .map_err(|e| Error::internal(format!("stored password hash is corrupt: {e}")))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}
