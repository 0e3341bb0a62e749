//! The reconciler: one pass, and the loop that repeats it.

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{Config, ConfigError};
use crate::hardened::Cursor;
use crate::ports::{ControlPlane, OfflineHandler, Store};
use crate::report::PassReport;
use crate::variant::Variant;

/// Watches the loop from outside, so a harness can mark pass boundaries in
/// its trace and stop after a number of passes.
pub trait PassObserver {
    /// A pass (numbered from 0, the boot pass) is starting.
    fn pass_started(&mut self, _pass: u64) {}
    /// A pass finished (it was not cancelled).
    fn pass_finished(&mut self, _pass: u64, _report: &PassReport) {}
}

/// The observer that watches nothing.
impl PassObserver for () {}

/// The reconciler for one variant over one store, control plane and handler.
///
/// `store` and `cp` are optional because the platform boots without them in
/// some deployments: without a store a pass does nothing (the reference's
/// nil-DB guard); without a control plane the loop is disabled (its
/// nil-checker guard).
pub struct Reconciler<S, C, H> {
    variant: Variant,
    config: Config,
    store: Option<S>,
    cp: Option<C>,
    handler: H,
    cursor: Cursor,
}

impl<S: Store, C: ControlPlane, H: OfflineHandler> Reconciler<S, C, H> {
    /// Validates `config` and builds the reconciler.
    pub fn new(
        variant: Variant,
        config: Config,
        store: Option<S>,
        cp: Option<C>,
        handler: H,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            variant,
            config,
            store,
            cp,
            handler,
            cursor: Cursor::default(),
        })
    }

    /// The variant this reconciler runs.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// The store, for harnesses that inspect it after a run.
    pub fn store(&self) -> Option<&S> {
        self.store.as_ref()
    }

    /// The handler, for harnesses that inspect it after a run.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Runs one pass (`reconcileOnce`).
    pub async fn pass(&mut self) -> PassReport {
        let (Some(store), Some(cp)) = (self.store.as_ref(), self.cp.as_ref()) else {
            warn!("no store or no control plane configured; pass does nothing");
            return PassReport::default();
        };
        let started = Instant::now();
        info!(variant = %self.variant, "pass started");
        let report = match self.variant {
            Variant::Legacy => crate::legacy::pass(&self.config, store, cp, &self.handler).await,
            Variant::Pr2283 => crate::pr2283::pass(&self.config, store, cp, &self.handler).await,
            Variant::Hardened => {
                crate::hardened::pass(&self.config, &mut self.cursor, store, cp, &self.handler)
                    .await
            }
        };
        info!(
            variant = %self.variant,
            elapsed_ms = started.elapsed().as_millis() as u64,
            candidates = report.candidates,
            processed = report.processed,
            flipped = report.flipped.len(),
            deadline_hit = report.deadline_hit,
            "pass finished"
        );
        report
    }

    /// The loop: a pass at boot, then one per interval, until `cancel`.
    ///
    /// Cancellation mid-pass abandons the pass at its current await point: no
    /// write is issued after cancellation. A pass that overruns the interval
    /// is followed at once by the tick it missed, then the schedule realigns
    /// (Go's ticker behaves the same way).
    pub async fn run(&mut self, cancel: &CancellationToken, observer: &mut impl PassObserver) {
        if self.cp.is_none() {
            warn!("no control plane configured; reconciler disabled");
            return;
        }
        let period = self.config.effective_interval();
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut n = 0u64;
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                _ = ticker.tick() => {}
            }
            observer.pass_started(n);
            let report = tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    info!(pass = n, "cancelled mid-pass");
                    break;
                }
                report = self.pass() => report,
            };
            observer.pass_finished(n, &report);
            n += 1;
        }
        info!(passes = n, "reconciler stopped");
    }
}
