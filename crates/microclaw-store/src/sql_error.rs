//! Maps SQLite failures onto `microclaw_core::Error`: busy/locked becomes UNAVAILABLE (retry),
//! everything else INTERNAL_ERROR with a message saying what the store was doing.

use microclaw_core::Error;

/// Turns a SQLite failure during `what` into the error callers see.
pub(crate) fn map_sql_error(e: rusqlite::Error, what: &str) -> Error {
    if is_busy(&e) {
        return Error::unavailable(format!(
            "{what}: the database is busy (locked by another connection or process); retry shortly"
        ));
    }
    Error::internal(format!("{what}: {e}"))
}

pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// True for UNIQUE / PRIMARY KEY violations (callers turn these into CONFLICT).
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation
                && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

/// `.ctx("what failed")` on any rusqlite result.
pub(crate) trait SqlContext<T> {
    fn ctx(self, what: &str) -> Result<T, Error>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn ctx(self, what: &str) -> Result<T, Error> {
        self.map_err(|e| map_sql_error(e, what))
    }
}

/// Wraps a decoding failure of a stored value so it can leave a row-mapping closure.
pub(crate) fn bad_column(idx: usize, err: Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(err))
}
