//! The reconciler's own log lines, recorded into the run's trace at the
//! simulated instant they were emitted.
//!
//! `reconciler-core` emits `tracing` events for its decisions ("probe
//! answered: dead", "flip: claim matched no row"). [`install`] sets a global
//! subscriber whose layer ([`SimLogs`]) stamps each event with the paused
//! tokio clock of the thread it fires on and queues it in that thread's
//! current [`LogCapture`]; the run's trace takes the queued lines in time
//! order before its next entry (and when it finishes), as [`Event::Log`]
//! entries that every observer — the printer, the digest, the picture — sees
//! like any other.
//!
//! Off unless [`install`] was called (`--log LEVEL`, or `RUST_LOG` for the
//! commands that print traces): without it no world captures anything and
//! traces, snapshots and digests are exactly what they were. With it the log
//! lines are part of the trace, so a digest taken with `--log` covers them.
//!
//! [`Event::Log`]: crate::trace::Event::Log

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// One log line as the reconciler emitted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// The module that emitted it (e.g. `reconciler_core::hardened`).
    pub target: String,
    /// The message.
    pub message: String,
    /// The structured fields, in the order the call site wrote them.
    pub fields: Vec<(String, String)>,
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<5} {}: {}", self.level, self.target, self.message)?;
        for (k, v) in &self.fields {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

/// Set once [`install`] succeeded: from then on every world captures.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the capturing layer as the process's global subscriber, keeping
/// the events `filter` admits (a level such as `info`, or `RUST_LOG`
/// directives such as `reconciler_core=debug`). Errors: a filter that does
/// not parse, or another global subscriber already set.
pub fn install(filter: &str) -> Result<(), String> {
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("--log {filter:?}: {e}"))?;
    let subscriber = tracing_subscriber::registry().with(SimLogs.with_filter(filter));
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| format!("cannot install the log layer: {e}"))?;
    INSTALLED.store(true, Ordering::SeqCst);
    Ok(())
}

/// The filter the trace-printing commands use: `--log` when given, else
/// `RUST_LOG` when set and not empty, else none (logs off).
pub fn requested(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_owned).or_else(|| {
        std::env::var("RUST_LOG")
            .ok()
            .filter(|v| !v.trim().is_empty())
    })
}

/// The lines one run captured and not yet handed to its trace.
struct Sink {
    origin: Instant,
    lines: RefCell<VecDeque<(Duration, LogLine)>>,
}

thread_local! {
    /// The capture of the run executing on this thread, if any.
    static CURRENT: RefCell<Option<Rc<Sink>>> = const { RefCell::new(None) };
}

/// One run's capture: while it lives, log events fired on its thread are
/// queued for its trace. A run's tasks all run on one thread, so the
/// thread is the run.
pub struct LogCapture {
    sink: Rc<Sink>,
    previous: Option<Rc<Sink>>,
}

impl fmt::Debug for LogCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogCapture")
            .field("queued", &self.sink.lines.borrow().len())
            .finish()
    }
}

impl LogCapture {
    /// Starts capturing on this thread, stamping lines relative to `origin`
    /// (the world's start); `None` when no layer is installed.
    pub fn start(origin: Instant) -> Option<Self> {
        if !INSTALLED.load(Ordering::SeqCst) {
            return None;
        }
        let sink = Rc::new(Sink {
            origin,
            lines: RefCell::new(VecDeque::new()),
        });
        let previous = CURRENT.with(|c| c.borrow_mut().replace(Rc::clone(&sink)));
        Some(Self { sink, previous })
    }

    /// Removes and returns the queued lines stamped no later than `until`,
    /// in the order they were emitted.
    pub fn take_until(&self, until: Duration) -> Vec<(Duration, LogLine)> {
        let mut lines = self.sink.lines.borrow_mut();
        let n = lines.iter().take_while(|(at, _)| *at <= until).count();
        lines.drain(..n).collect()
    }

    /// Removes and returns every queued line.
    pub fn take_all(&self) -> Vec<(Duration, LogLine)> {
        self.sink.lines.borrow_mut().drain(..).collect()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// The layer: hands each event to the current thread's capture.
pub struct SimLogs;

impl<S: Subscriber> Layer<S> for SimLogs {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        CURRENT.with(|c| {
            let Some(sink) = c.borrow().as_ref().map(Rc::clone) else {
                return;
            };
            let meta = event.metadata();
            let mut fields = Fields::default();
            event.record(&mut fields);
            let at = Instant::now().saturating_duration_since(sink.origin);
            // Stamps never go back: a line queued behind a later one keeps
            // the later stamp's order.
            let mut lines = sink.lines.borrow_mut();
            let at = lines.back().map_or(at, |(last, _)| at.max(*last));
            lines.push_back((
                at,
                LogLine {
                    level: *meta.level(),
                    target: meta.target().to_owned(),
                    message: fields.message,
                    fields: fields.fields,
                },
            ));
        });
    }
}

/// Collects an event's message and fields as text.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields
                .push((field.name().to_owned(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message.push_str(&text);
        } else {
            self.fields.push((field.name().to_owned(), text));
        }
    }
}
