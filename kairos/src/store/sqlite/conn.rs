//! A SQLite connection as store operations use it, on the calling thread, and how SQLite's
//! errors are read.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every statement was two hand-offs
//! between threads (a futex wake-up and a context switch each way): on a page of bookings they
//! cost more than the query, and the writer, which runs a booking's statements one after the
//! other, spent most of its time waiting for them (the README's performance section). A
//! statement on a file here takes microseconds, so it runs where it is asked for: a reader's on
//! the request's thread, the writer's on the writer's own thread. The SQL is the same text the
//! PostgreSQL backend runs, with its arguments bound as sqlx binds them ([`bind`]), and the
//! rows read by [`SqliteRecord`](super::SqliteRecord).

use std::{
    any::TypeId, cell::RefCell, collections::HashMap, marker::PhantomData, path::PathBuf, rc::Rc,
    sync::Arc,
};

use rusqlite::{CachedStatement, OpenFlags, types::Value};

use super::{BUSY_TIMEOUT, checkpointer};
use crate::store::{
    Constraint, StoreError,
    lease::{Age, Connector, Leased},
    query::{Arg, Query, Record},
    record::Positions,
};

/// What every connection to the file sets. A confirmed booking must survive power loss, not
/// only a crash of the process (`synchronous=FULL`). Each write operation runs in a savepoint,
/// whose journal (the pages as they were before it, only ever needed to undo it) SQLite keeps
/// in a temporary file once it passes 64 KiB: in a batch of bookings that was two of every three
/// of the writer's `pwrite` calls. Kept in memory instead (`temp_store=MEMORY`); a crash loses
/// nothing by it, since the write-ahead log is what makes a commit durable.
pub(super) const PRAGMAS: [(&str, &str); 3] = [
    ("foreign_keys", "ON"),
    ("synchronous", "FULL"),
    ("temp_store", "MEMORY"),
];

/// Every statement the store runs stays prepared.
const STATEMENT_CACHE: usize = 1000;

/// How a connection is opened: the file, and whether it may change anything.
#[derive(Clone)]
pub struct Options {
    pub path: PathBuf,
    /// Readers refuse any change, so nothing can write beside the writer.
    pub query_only: bool,
}

impl Options {
    pub fn connect(&self) -> Result<rusqlite::Connection, StoreError> {
        // Read-write at the file level even for a reader: a WAL reader updates the
        // shared-memory index.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = rusqlite::Connection::open_with_flags(&self.path, flags).map_err(classify)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(classify)?;
        let query_only = self.query_only.then_some(("query_only", "ON"));
        for (pragma, value) in PRAGMAS.into_iter().chain(query_only) {
            conn.pragma_update(None, pragma, value).map_err(classify)?;
        }
        if !self.query_only {
            // Checkpoints are the checkpointer's; a commit runs one only as a backstop.
            conn.pragma_update(None, "wal_autocheckpoint", checkpointer::BACKSTOP_PAGES)
                .map_err(classify)?;
        }
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }
}

impl Connector for Options {
    type Connection = rusqlite::Connection;

    async fn connect(&self) -> Result<rusqlite::Connection, StoreError> {
        Options::connect(self)
    }

    /// A file on this machine does not hang up as a server may.
    async fn still_good(&self, _: &mut rusqlite::Connection, _: Age) -> bool {
        true
    }
}

pub struct SqliteConn {
    pub(super) conn: Leased<Options>,
    /// Whether the current write operation still owes its savepoint (made before its first
    /// statement, so an operation that sends nothing makes none).
    owes_savepoint: bool,
    /// Whether the current operation has sent anything (so its savepoint exists).
    sent: bool,
    /// Set when a statement failed in a way that may have ended the transaction or broken the
    /// connection (I/O, disk full, an unexpected error): nothing more may run in the writer's
    /// batch, none of it may commit, and a reader's connection is closed, not lent again.
    pub(super) broken: Option<String>,
}

impl SqliteConn {
    pub fn new(conn: Leased<Options>) -> Self {
        Self {
            conn,
            owes_savepoint: false,
            sent: false,
            broken: None,
        }
    }

    /// A write operation begins: it owes a savepoint, made with its first statement.
    pub(super) fn begin_operation(&mut self) {
        self.owes_savepoint = true;
        self.sent = false;
    }

    /// A write operation ended: keep or undo what it did.
    pub(super) fn end_operation(&mut self, keep: bool) {
        if self.sent {
            let end = if keep {
                "RELEASE kairos_write"
            } else {
                "ROLLBACK TO kairos_write; RELEASE kairos_write"
            };
            let result = self.conn.execute_batch(end).map_err(classify);
            let _ = self.note(result);
        }
        self.owes_savepoint = false;
        self.sent = false;
    }

    /// Undoes the writer's whole batch after it failed.
    pub(super) fn roll_back(&mut self) {
        self.owes_savepoint = false;
        self.sent = false;
        if let Err(err) = self.conn.execute_batch("ROLLBACK") {
            // No transaction left to undo (its COMMIT failed after ending it) is not an error.
            if self.conn.is_autocommit() {
                return;
            }
            tracing::error!(error = %err, "could not roll back a failed write batch");
        }
    }

    /// A constraint violation or a refusal is the operation's own; anything else may have ended
    /// the transaction under the batch.
    fn note<T>(&mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(err @ (StoreError::Unavailable(_) | StoreError::Sqlite(_))) = &result {
            self.broken.get_or_insert_with(|| err.to_string());
        }
        result
    }

    /// Runs a statement: the savepoint the operation owes first, then its rows read by `read`.
    fn run<T>(
        &mut self,
        query: Query,
        read: impl FnOnce(&mut rusqlite::Rows<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let conn = &*self.conn;
        let owes_savepoint = std::mem::take(&mut self.owes_savepoint);
        self.sent = true;
        let result = (|| {
            if owes_savepoint {
                conn.execute_batch("SAVEPOINT kairos_write")?;
            }
            let mut statement = conn.prepare_cached(query.text)?;
            bind(&mut statement, query.text, query.args)?;
            let mut rows = statement.raw_query();
            read(&mut rows)
        })()
        .map_err(classify);
        self.note(result)
    }

    /// Runs a statement that changes rows; answers how many it changed.
    pub fn execute(&mut self, query: Query) -> Result<u64, StoreError> {
        self.run(query, |rows| {
            while rows.next()?.is_some() {}
            Ok(())
        })?;
        Ok(self.conn.changes())
    }

    pub fn fetch_optional<R: Record>(&mut self, query: Query) -> Result<Option<R>, StoreError> {
        let mut reader = RecordReader::<R>::new(query.text);
        self.run(query, |rows| {
            let row = rows.next()?;
            row.map(|row| reader.read(row)).transpose()
        })
    }

    pub fn fetch_all<R: Record>(&mut self, query: Query) -> Result<Vec<R>, StoreError> {
        let mut reader = RecordReader::<R>::new(query.text);
        self.run(query, |rows| {
            let mut records = Vec::new();
            while let Some(row) = rows.next()? {
                records.push(reader.read(row)?);
            }
            Ok(records)
        })
    }
}

/// Binds each argument where the text names it (`$1` is the first), as sqlx does: a UUID as
/// its 16 bytes, a time as RFC 3339 text, a bool as 0 or 1; a slot with no argument is NULL.
fn bind(
    statement: &mut CachedStatement<'_>,
    text: &'static str,
    args: Vec<Arg>,
) -> rusqlite::Result<()> {
    let mut values: Vec<Option<Value>> = args.into_iter().map(|arg| Some(value(arg))).collect();
    let slots = argument_slots(statement, text)?;
    for (slot, &index) in slots.iter().enumerate() {
        let value = values
            .get_mut(index.wrapping_sub(1))
            .and_then(Option::take)
            .unwrap_or(Value::Null);
        statement.raw_bind_parameter(slot + 1, value)?;
    }
    Ok(())
}

/// A statement text by its address and length.
type TextKey = (usize, usize);

/// Each record type's columns, by statement text.
type RecordColumns = HashMap<(TextKey, TypeId), Arc<[usize]>>;

thread_local! {
    /// Where each record's fields are among the columns of each statement read into it.
    static COLUMNS: RefCell<RecordColumns> = RefCell::new(HashMap::new());
    /// Which argument each slot of a statement takes, by the statement's text (its address and
    /// length: the texts are `'static`, so neither is ever reused for another).
    static SLOTS: RefCell<HashMap<TextKey, Rc<[usize]>>> = RefCell::new(HashMap::new());
}

/// Which argument (`$N` is the N-th) each of the statement's slots takes, in slot order. SQLite
/// finds a slot's name by walking the list of names, so asking for each slot on every run cost
/// the writer 4% of its time on the multi-row inserts; it is asked once per text and thread.
fn argument_slots(
    statement: &CachedStatement<'_>,
    text: &'static str,
) -> rusqlite::Result<Rc<[usize]>> {
    let key = (text.as_ptr() as usize, text.len());
    if let Some(slots) = SLOTS.with_borrow(|slots| slots.get(&key).cloned()) {
        return Ok(slots);
    }
    let slots = (1..=statement.parameter_count())
        .map(|slot| match statement.parameter_name(slot) {
            Some(name) => name
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.to_owned())),
            None => Ok(slot),
        })
        .collect::<rusqlite::Result<Rc<[usize]>>>()?;
    SLOTS.with_borrow_mut(|all| all.insert(key, Rc::clone(&slots)));
    Ok(slots)
}

/// Reads the rows of the statement `text` into records of one type, their columns found by
/// name the first time on this thread (see [`Positions`]) and remembered for the statement.
struct RecordReader<R> {
    key: (TextKey, TypeId),
    positions: Positions,
    record: PhantomData<fn() -> R>,
}

impl<R: Record> RecordReader<R> {
    fn new(text: &'static str) -> Self {
        let key = ((text.as_ptr() as usize, text.len()), TypeId::of::<R>());
        let known = COLUMNS.with_borrow(|all| all.get(&key).cloned());
        RecordReader {
            key,
            positions: known.map_or_else(Positions::default, Positions::known),
            record: PhantomData,
        }
    }

    fn read(&mut self, row: &rusqlite::Row<'_>) -> rusqlite::Result<R> {
        let first = self.positions.found().is_none();
        let record = self.positions.read(|columns| R::read_from(row, columns))?;
        if let (true, Some(found)) = (first, self.positions.found()) {
            COLUMNS.with_borrow_mut(|all| all.insert(self.key, Arc::clone(found)));
        }
        Ok(record)
    }
}

fn value(arg: Arg) -> Value {
    let value = match arg {
        Arg::Uuid(v) => v.map(|id| Value::Blob(id.as_bytes().to_vec())),
        Arg::Time(v) => {
            v.map(|time| Value::Text(time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)))
        }
        Arg::Text(v) => v.map(Value::Text),
        Arg::Int(v) => v.map(Value::Integer),
        Arg::Bool(v) => v.map(|b| Value::Integer(i64::from(b))),
        Arg::Bytes(v) => v.map(Value::Blob),
    };
    value.unwrap_or(Value::Null)
}

/// SQLite's primary result codes that mean "cannot serve now" rather than "bad statement":
/// BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN.
const UNAVAILABLE_CODES: [i32; 7] = [5, 6, 8, 10, 11, 13, 14];

pub(super) fn classify(err: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, message) = &err {
        if let Some(constraint) = message.as_deref().and_then(Constraint::from_sqlite_message) {
            return StoreError::Violation(constraint);
        }
        if UNAVAILABLE_CODES.contains(&(failure.extended_code & 0xff)) {
            return StoreError::Unavailable(err.to_string());
        }
    }
    StoreError::Sqlite(err)
}
