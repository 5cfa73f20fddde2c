//! The request ledger: one row per provider call — key checks, model lists, every chat
//! attempt — in SQLite (`$SIDEKICK_HOME/sidekick.db`), with tokens and cost, never a key, a
//! prompt or an answer. One thread owns the database; callers send it commands, so no stream
//! ever waits on the disk. A database that cannot be read is set aside and a new one started.

pub mod db;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as sync_mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use crate::protocol::{
    CallOutcome, LedgerOperation, RequestLogEntry, RequestLogParams, RequestLogResult, SpendParams,
    SpendResult, Usage,
};

pub use db::ROW_CAP;

/// The database's file name, in `$SIDEKICK_HOME` or the OS data directory.
pub const FILE_NAME: &str = "sidekick.db";

/// One finished provider call, before the database gives it an id.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub started_at_ms: i64,
    pub provider: String,
    /// `gen_ai.provider.name` (spans only).
    pub provider_name: &'static str,
    pub host: String,
    pub operation: LedgerOperation,
    /// The model that answered, or the one asked when none said.
    pub model: Option<String>,
    /// The model asked for (spans only; the database keeps `model`).
    pub request_model: Option<String>,
    /// How a chat attempt ended (spans only).
    pub finish_reason: Option<String>,
    /// The provider's id of the answer (spans only).
    pub response_id: Option<String>,
    pub chat_id: Option<String>,
    pub attempt: Option<u32>,
    pub outcome: CallOutcome,
    pub http_status: Option<u16>,
    pub guidance_kind: Option<String>,
    pub request_id: Option<String>,
    pub headers_ms: Option<u64>,
    pub first_token_ms: Option<u64>,
    pub duration_ms: u64,
    pub usage: Option<Usage>,
    /// Nano-dollars; None when unpriced or no tokens were used.
    pub cost_nanos: Option<i64>,
}

impl CallRecord {
    /// A call that starts now; fill in the rest when it ends. `provider` is the spec's id and
    /// `provider_name` its OpenTelemetry name.
    pub fn start(
        (provider, provider_name): (&str, &'static str),
        base_url: &str,
        operation: LedgerOperation,
    ) -> CallRecord {
        CallRecord {
            started_at_ms: now_ms(),
            provider: provider.to_string(),
            provider_name,
            host: crate::endpoint::host(base_url),
            operation,
            model: None,
            request_model: None,
            finish_reason: None,
            response_id: None,
            chat_id: None,
            attempt: None,
            outcome: CallOutcome::Ok,
            http_status: None,
            guidance_kind: None,
            request_id: None,
            headers_ms: None,
            first_token_ms: None,
            duration_ms: 0,
            usage: None,
            cost_nanos: None,
        }
    }

    /// Milliseconds since `started_at_ms`.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(now_ms() - self.started_at_ms).unwrap_or(0)
    }

    /// Ends the call as failed with what the failure says.
    pub fn failed(mut self, err: &crate::failure::ProviderError) -> CallRecord {
        self.outcome = CallOutcome::Failed;
        self.guidance_kind = Some(crate::guidance::kind_of(err.category()).to_string());
        if let Some(api) = err.api() {
            self.http_status = api.status;
            self.request_id = api.request_id.clone();
        }
        self.duration_ms = self.elapsed_ms();
        self
    }

    /// What the response's headers said, where the record does not know better.
    pub fn seen(mut self, seen: Option<crate::http::Seen>) -> CallRecord {
        if let Some(s) = seen {
            self.http_status = self.http_status.or(Some(s.status));
            self.request_id = self.request_id.take().or(s.request_id);
            self.headers_ms = self.headers_ms.or(Some(s.headers_ms));
        }
        self
    }

    pub fn ok(mut self) -> CallRecord {
        self.outcome = CallOutcome::Ok;
        self.duration_ms = self.elapsed_ms();
        self
    }
}

/// This month's spend, for the budget.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MonthSpend {
    pub nanos: i64,
    pub unpriced_calls: u64,
}

impl MonthSpend {
    pub fn usd(&self) -> f64 {
        self.nanos as f64 / 1e9
    }
}

enum Command {
    Record(Box<CallRecord>),
    Log(
        RequestLogParams,
        oneshot::Sender<Result<RequestLogResult, String>>,
    ),
    Spend(
        SpendParams,
        oneshot::Sender<Result<(SpendResult, i64), SpendError>>,
    ),
    Month(oneshot::Sender<Option<MonthSpend>>),
    /// True the first time it is asked in a calendar month (the budget warning).
    FirstWarningThisMonth(oneshot::Sender<bool>),
    Retention(u32),
    /// Answers once every command sent before it is done (tests, shutdown).
    Flush(oneshot::Sender<()>),
    /// Work of another service on the database (the organization cache), in order with the rest.
    Run(Box<dyn FnOnce(&mut db::Db) + Send>),
}

/// A handle on the ledger thread. Cheap to clone; a ledger that could not start records
/// nothing and answers empty.
#[derive(Clone)]
pub struct Ledger {
    tx: Option<sync_mpsc::Sender<Command>>,
    path: Option<PathBuf>,
    /// Set once the user was told that a budget cannot be checked (no ledger to sum).
    blind_budget_told: Arc<AtomicBool>,
}

impl Ledger {
    /// Starts the ledger thread, which opens (or creates) the database in `dir` — off the
    /// start-up path: commands sent meanwhile wait in the channel. Every recorded entry, with
    /// its id, also goes to `logged`. The receiver gets the warning for the user, if the
    /// database had to be set aside, once it is open.
    /// Nothing is pruned before the first [`Ledger::set_retention`]: the client's retention
    /// arrives with `initialize`, after the thread started.
    pub fn open(
        dir: Option<&Path>,
        logged: mpsc::UnboundedSender<RequestLogEntry>,
    ) -> (Ledger, oneshot::Receiver<Option<String>>) {
        let path = dir.map(|d| d.join(FILE_NAME));
        let (warn_tx, warn_rx) = oneshot::channel();
        let (tx, rx) = sync_mpsc::channel::<Command>();
        let at = path.clone();
        let spawned = std::thread::Builder::new()
            .name("sidekick-ledger".into())
            .spawn(move || {
                background_priority();
                // The database opens at the first command (the client's retention, sent once
                // `initialize` is answered), so start-up never shares a core with SQLite; or
                // after two seconds, for a client that never says `initialized`.
                let first = match rx.recv_timeout(Duration::from_secs(2)) {
                    Ok(c) => Some(c),
                    Err(sync_mpsc::RecvTimeoutError::Timeout) => None,
                    Err(sync_mpsc::RecvTimeoutError::Disconnected) => return,
                };
                let (database, warning) = db::Db::open_or_recover(at.as_deref());
                if let Some(w) = &warning {
                    tracing::warn!("{w}");
                }
                let _ = warn_tx.send(warning);
                run(database, first, rx, logged)
            });
        match spawned {
            Ok(_) => (
                Ledger {
                    tx: Some(tx),
                    path,
                    blind_budget_told: Arc::default(),
                },
                warn_rx,
            ),
            Err(e) => {
                tracing::warn!("ledger thread did not start: {e}");
                (Ledger::off(), warn_rx)
            }
        }
    }

    /// A ledger that keeps nothing (unit tests of other parts).
    pub fn off() -> Ledger {
        Ledger {
            tx: None,
            path: None,
            blind_budget_told: Arc::default(),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn send(&self, c: Command) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(c);
        }
    }

    /// Records a call (and exports it as a span when a team asked for them); returns at once.
    pub fn record(&self, r: CallRecord) {
        crate::telemetry::export(&r);
        self.send(Command::Record(Box::new(r)));
    }

    pub fn set_retention(&self, days: u32) {
        self.send(Command::Retention(days));
    }

    pub async fn log(&self, p: RequestLogParams) -> Result<RequestLogResult, String> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Log(p, tx));
        rx.await.unwrap_or_else(|_| {
            Ok(RequestLogResult {
                entries: Vec::new(),
                next_before: None,
            })
        })
    }

    /// Spend over local dates, and the total in nano-dollars.
    pub async fn spend(&self, p: SpendParams) -> Result<(SpendResult, i64), SpendError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Spend(p, tx));
        rx.await
            .unwrap_or_else(|_| Err(SpendError::Ledger("the ledger is not running".into())))
    }

    /// This month's spend; None when it cannot be read (no ledger, or the database failed).
    pub async fn month(&self) -> Option<MonthSpend> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Month(tx));
        rx.await.ok().flatten()
    }

    /// True the first time in this process: a budget is set but [`Ledger::month`] is None.
    pub fn first_blind_budget(&self) -> bool {
        !self.blind_budget_told.swap(true, Ordering::Relaxed)
    }

    pub async fn first_warning_this_month(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        self.send(Command::FirstWarningThisMonth(tx));
        rx.await.unwrap_or(false)
    }

    /// Runs `f` on the ledger thread with the database; None when the ledger is not running.
    pub async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut db::Db) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Run(Box::new(move |db| {
            let _ = tx.send(f(db));
        })));
        rx.await.ok()
    }

    /// Runs `f` on the ledger thread without waiting: for what must be written even when the
    /// caller's future is being dropped (a cancelled chat's answer).
    pub fn run_detached(&self, f: impl FnOnce(&mut db::Db) + Send + 'static) {
        self.send(Command::Run(Box::new(f)));
    }

    /// True when a thread keeps this ledger (not `off`).
    pub fn is_running(&self) -> bool {
        self.tx.is_some()
    }

    /// Waits until everything sent before is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Flush(tx));
        let _ = rx.await;
    }
}

/// The ledger is bookkeeping: on Linux its thread runs at nice 10, so a write at the end of an
/// answer yields to the sidecar's own thread relaying the next one when both want one core
/// (docs/performance.md). Not `SCHED_IDLE`: on a busy machine (a build running) that starves
/// the thread for seconds, and a budget check or a request-log query would wait on it.
fn background_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: on Linux the nice value is per thread, and PRIO_PROCESS with who = 0 sets the
    // calling thread's; nothing else is touched.
    unsafe {
        if libc::setpriority(libc::PRIO_PROCESS, 0, 10) != 0 {
            tracing::debug!("ledger thread: lower priority refused");
        }
    }
}

/// Why a spend query failed: the client's dates, or the ledger.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SpendError {
    #[error("{0}")]
    Dates(String),
    #[error("the request log could not be read: {0}")]
    Ledger(String),
}

/// The ledger thread: every command in order, and old rows pruned hourly (idle or not) once
/// the client said how long to keep them.
fn run(
    mut database: db::Db,
    first: Option<Command>,
    rx: sync_mpsc::Receiver<Command>,
    logged: mpsc::UnboundedSender<RequestLogEntry>,
) {
    let prune_every = Duration::from_secs(3600);
    let mut retention_days: Option<u32> = None;
    let mut last_prune = std::time::Instant::now();
    if let Some(first) = first {
        handle(
            &mut database,
            first,
            &logged,
            &mut retention_days,
            &mut last_prune,
        );
    }
    loop {
        let command = match rx.recv_timeout(prune_every) {
            Ok(c) => Some(c),
            Err(sync_mpsc::RecvTimeoutError::Timeout) => None,
            Err(sync_mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if let Some(command) = command {
            handle(
                &mut database,
                command,
                &logged,
                &mut retention_days,
                &mut last_prune,
            );
        }
        if let Some(days) = retention_days
            && last_prune.elapsed() >= prune_every
        {
            database.prune(days);
            last_prune = std::time::Instant::now();
        }
    }
}

fn handle(
    database: &mut db::Db,
    command: Command,
    logged: &mpsc::UnboundedSender<RequestLogEntry>,
    retention_days: &mut Option<u32>,
    last_prune: &mut std::time::Instant,
) {
    match command {
        Command::Record(r) => match database.insert(&r) {
            Ok(entry) => {
                let _ = logged.send(entry);
            }
            Err(e) => tracing::warn!("ledger: could not record a call: {e}"),
        },
        Command::Log(p, reply) => {
            let _ = reply.send(database.log(&p).map_err(|e| e.to_string()));
        }
        Command::Spend(p, reply) => {
            let _ = reply.send(database.spend(&p));
        }
        Command::Month(reply) => {
            let _ = reply.send(
                database
                    .month()
                    .inspect_err(|e| tracing::warn!("ledger: this month's spend unreadable: {e}"))
                    .ok(),
            );
        }
        Command::FirstWarningThisMonth(reply) => {
            let _ = reply.send(database.first_warning_this_month().unwrap_or(false));
        }
        Command::Retention(days) => {
            *retention_days = Some(days);
            database.prune(days);
            *last_prune = std::time::Instant::now();
        }
        Command::Flush(reply) => {
            let _ = reply.send(());
        }
        Command::Run(f) => f(database),
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The database of data that must pass through one even when the ledger is off (the
/// organization's costs, conversations): the ledger's, or one in memory for the session.
pub struct Store {
    ledger: Ledger,
    memory: tokio::sync::OnceCell<Ledger>,
}

impl Store {
    pub fn new(ledger: Ledger) -> Store {
        Store {
            ledger,
            memory: tokio::sync::OnceCell::new(),
        }
    }

    /// The ledger the data lives in.
    pub async fn ledger(&self) -> &Ledger {
        if self.ledger.is_running() {
            return &self.ledger;
        }
        self.memory
            .get_or_init(|| async {
                let (sink, _) = mpsc::unbounded_channel::<RequestLogEntry>();
                Ledger::open(None, sink).0
            })
            .await
    }

    /// The ledger the data lives in, if it is ready without waiting (for writes from `Drop`).
    pub fn ready(&self) -> Option<&Ledger> {
        if self.ledger.is_running() {
            Some(&self.ledger)
        } else {
            self.memory.get()
        }
    }
}
