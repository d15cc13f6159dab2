//! A SQLite connection as store operations use it, and how SQLite's errors are read.
//!
//! On the writer it carries the savepoint statements the writer still owes and sends them with
//! the operation's next statement: sqlx runs each SQLite connection on a thread of its own, so
//! every call is a round trip between threads, and a savepoint sent alone would be one more.

use futures_util::StreamExt;
use sqlx::Sqlite as Db;

use super::lease::Leased;
use crate::store::{
    Constraint, StoreError,
    query::{Query, Record, bind_args},
};

pub struct SqliteConn {
    pub(super) conn: Leased,
    /// Statements to send before the next one, in the same call.
    pub(super) owed: String,
    /// Whether the current operation has sent anything (so its savepoint exists).
    sent: bool,
    /// Set when a call failed in a way that may have ended the transaction (I/O, disk full, an
    /// unexpected error): nothing more may run in this batch, and none of it may commit.
    pub(super) broken: Option<String>,
}

const SAVEPOINT: &str = "SAVEPOINT kairos_write; ";
const RELEASE: &str = "RELEASE kairos_write; ";
const ROLLBACK_TO: &str = "ROLLBACK TO kairos_write; RELEASE kairos_write; ";

impl SqliteConn {
    /// Wraps a leased connection; outside the writer nothing is ever owed.
    pub fn new(conn: Leased) -> Self {
        Self {
            conn,
            owed: String::new(),
            sent: false,
            broken: None,
        }
    }

    /// An operation begins: it owes a savepoint, sent with its first statement.
    pub(super) fn begin_operation(&mut self) {
        self.owed.push_str(SAVEPOINT);
        self.sent = false;
    }

    /// An operation ended: keep or undo what it did.
    pub(super) fn end_operation(&mut self, keep: bool) {
        if self.sent {
            self.owed.push_str(if keep { RELEASE } else { ROLLBACK_TO });
        } else if let Some(unsent) = self.owed.strip_suffix(SAVEPOINT) {
            // It sent nothing: it never had a savepoint.
            self.owed.truncate(unsent.len());
        }
        self.sent = false;
    }

    /// A statement's text with what is owed in front of it.
    fn text(&mut self, text: &'static str) -> sqlx::SqlStr {
        self.sent = true;
        if self.owed.is_empty() {
            sqlx::SqlSafeStr::into_sql_str(text)
        } else {
            let mut owed = std::mem::take(&mut self.owed);
            owed.push_str(text);
            sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(owed))
        }
    }

    /// A constraint violation or a refusal is the operation's own; anything else may have ended
    /// the transaction under the batch.
    fn note<T>(&mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(err @ (StoreError::Unavailable(_) | StoreError::Database(_))) = &result {
            self.broken.get_or_insert_with(|| err.to_string());
        }
        result
    }

    pub async fn execute(&mut self, query: Query) -> Result<u64, StoreError> {
        let owes = !self.owed.is_empty();
        let text = self.text(query.text);
        let statement = bind_args(sqlx::query::<Db>(text), query.args);
        let result = if owes {
            // SQLite reports the last INSERT/UPDATE/DELETE's changes after a SAVEPOINT or
            // RELEASE too, so summing over the call would count the previous operation's rows:
            // only the last statement's count is this statement's.
            #[allow(deprecated)]
            let mut results = statement.execute_many(&mut *self.conn).await;
            let mut last = Ok(0);
            while let Some(result) = results.next().await {
                last = result.map(|done| done.rows_affected());
                if last.is_err() {
                    break;
                }
            }
            last
        } else {
            statement
                .execute(&mut *self.conn)
                .await
                .map(|done| done.rows_affected())
        };
        self.note(result.map_err(classify))
    }

    pub async fn fetch_optional<R: Record>(
        &mut self,
        query: Query,
    ) -> Result<Option<R>, StoreError> {
        let text = self.text(query.text);
        let row = bind_args(sqlx::query::<Db>(text), query.args)
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(classify);
        let row = self.note(row)?;
        row.map(|row| R::from_row(&row))
            .transpose()
            .map_err(classify)
    }

    pub async fn fetch_all<R: Record>(&mut self, query: Query) -> Result<Vec<R>, StoreError> {
        let text = self.text(query.text);
        let rows = bind_args(sqlx::query::<Db>(text), query.args)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(classify);
        let rows = self.note(rows)?;
        rows.iter()
            .map(|row| R::from_row(row))
            .collect::<Result<_, _>>()
            .map_err(classify)
    }
}

/// SQLite's primary result codes that mean "cannot serve now" rather than "bad statement":
/// BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN.
const UNAVAILABLE_CODES: [i64; 7] = [5, 6, 8, 10, 11, 13, 14];

pub(super) fn classify(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if let Some(constraint) = Constraint::from_sqlite_message(db.message()) {
            return StoreError::Violation(constraint);
        }
        let primary = db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .map(|code| code & 0xff);
        if primary.is_some_and(|code| UNAVAILABLE_CODES.contains(&code)) {
            return StoreError::Unavailable(err.to_string());
        }
    }
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
        other => StoreError::Database(other),
    }
}
