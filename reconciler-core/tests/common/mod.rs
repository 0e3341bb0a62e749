//! In-memory fakes of the reconciler's three ports, and the helpers the
//! test files share.
//!
//! Why fakes and not mocks: the PR's own suite mocked each SQL statement with
//! a canned answer, so a race was "the re-confirm returns X" rather than "the
//! row changed". Here the store is a small table that evaluates every
//! statement against its current rows, and a race is a real change to that
//! table (see [`Change`] and [`FakeStore::after_candidates`]). Every variant
//! then observes the same change through whatever statements it runs, and the
//! tests assert what each variant really does with it.
//!
//! Everything is single-threaded: the ports' futures are not `Send`, so the
//! fakes share state through `Rc` + `RefCell`/`Cell`, and a test keeps a
//! clone of each fake to inspect after the reconciler (which owns the other
//! clone) has run. No borrow is ever held across an `.await`, so a pass that
//! is cancelled at any await point leaves the fakes usable. Collections are
//! `BTreeMap`/`Vec` so every listing is in a stable order.
#![allow(
    dead_code,
    reason = "each test file uses a different subset of these helpers"
)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use reconciler_core::{
    Candidate, CandidateQuery, Claim, Config, ControlPlane, CpError, InstanceId, InstanceState,
    OfflineHandler, Order, PassObserver, PassReport, Reconciler, RowView, SkipReason, Status,
    Store, StoreError, Variant, WorkspaceId,
};
use tokio::time::Instant;

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------

/// One row of the fake `workspaces` table: only the columns the reconciler's
/// statements read or write.
///
/// `instance` is an `Option<String>` so that SQL `NULL` (`None`) and the
/// empty string (`Some("")`) stay distinct, as they are in Postgres: the scope
/// predicate excludes both, but through different clauses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Primary key.
    pub id: WorkspaceId,
    /// `status`.
    pub status: Status,
    /// `instance_id`; `None` is NULL.
    pub instance: Option<String>,
    /// `runtime`; `None` is NULL.
    pub runtime: Option<String>,
    /// `updated_at`, in milliseconds on the store's clock ([`FakeStore::now_ms`]:
    /// 0 when the store was built, negative before). Most tests only need
    /// its order and pass small numbers; `hardened`'s quiet guard compares
    /// it with the clock.
    pub updated_at: i64,
}

impl Row {
    /// A row with a NULL runtime.
    pub fn new(id: &str, status: Status, instance: Option<&str>, updated_at: i64) -> Self {
        Self {
            id: WorkspaceId::from(id),
            status,
            instance: instance.map(str::to_owned),
            runtime: None,
            updated_at,
        }
    }

    /// The same row with `runtime` set (`None` is NULL).
    pub fn runtime(mut self, runtime: Option<&str>) -> Self {
        self.runtime = runtime.map(str::to_owned);
        self
    }
}

/// An `online` SaaS row (NULL runtime) on `instance`.
pub fn online(id: &str, instance: &str, updated_at: i64) -> Row {
    Row::new(id, Status::Online, Some(instance), updated_at)
}

/// `n` online rows `ws-01` … `ws-nn` on `i-01` … `i-nn`, with `updated_at`
/// decreasing as the id increases, so that `ORDER BY updated_at DESC` and
/// `ORDER BY id` agree (`ws-01` first).
pub fn fleet(n: usize) -> Vec<Row> {
    (1..=n)
        .map(|k| {
            online(
                &format!("ws-{k:02}"),
                &format!("i-{k:02}"),
                (n + 1 - k) as i64,
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------

/// The store operations, for error injection, latency and the call log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// `Store::candidates`.
    Candidates,
    /// `Store::reconfirm`.
    Reconfirm,
    /// `Store::resolve_instance` (inside `IsRunning`).
    Resolve,
    /// `Store::claim` (`hardened`'s guarded write, the only one the
    /// reconciler makes).
    Claim,
}

/// A change a racing actor makes to the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A concurrent delete.
    Delete(&'static str),
    /// Reprovision (`Some(new)`), or the orphan sweeper (`None` = NULL, or
    /// `Some("")`); it leaves `updated_at` alone, as the orphan sweeper does.
    SetInstance(&'static str, Option<&'static str>),
    /// A status transition (restart, pause, heartbeat, another sweep); like
    /// every status write of the platform it bumps `updated_at` to now.
    SetStatus(&'static str, Status),
    /// A runtime change (`None` = NULL).
    SetRuntime(&'static str, Option<&'static str>),
}

/// One store call, as the fake saw it arrive (before its latency).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Which statement.
    pub op: Op,
    /// The workspace it was about (`None` for the candidate query).
    pub id: Option<String>,
    /// Simulated time since the fake was built.
    pub at: Duration,
}

/// The in-memory `workspaces` table.
///
/// It evaluates each statement against the rows as they are when the
/// statement runs (after its injected latency), with the semantics of the
/// reference SQL: the scope predicate through [`CandidateQuery::admits`], the
/// keyset cursor through [`CandidateQuery::after_cursor`], `ORDER BY
/// updated_at DESC` (ties by id) or `ORDER BY id`, `LIMIT`; the re-confirm's
/// `COALESCE(instance_id, '')`; and the compare-and-set of `claim` exactly
/// as [`Claim`] documents it, whose quiet guard reads the store's own clock
/// ([`FakeStore::now_ms`]: milliseconds of tokio's paused clock since the
/// store was built, so it is deterministic and moves only when a test's
/// time does).
#[derive(Clone)]
pub struct FakeStore(Rc<StoreInner>);

struct StoreInner {
    base: Instant,
    rows: RefCell<BTreeMap<WorkspaceId, Row>>,
    /// `(op, None)` fails every call of `op`; `(op, Some(id))` only the calls
    /// about `id`.
    failures: RefCell<Vec<(Op, Option<WorkspaceId>)>>,
    latency: RefCell<BTreeMap<Op, Duration>>,
    after_candidates: RefCell<Vec<Change>>,
    calls: RefCell<Vec<Call>>,
    queries: RefCell<Vec<CandidateQuery>>,
    claims: RefCell<Vec<Claim>>,
}

impl FakeStore {
    /// A table holding `rows` (ids must be unique).
    pub fn new(rows: Vec<Row>) -> Self {
        let mut table = BTreeMap::new();
        for row in rows {
            let id = row.id.clone();
            assert!(
                table.insert(id.clone(), row).is_none(),
                "duplicate row {id}"
            );
        }
        Self(Rc::new(StoreInner {
            base: Instant::now(),
            rows: RefCell::new(table),
            failures: RefCell::new(Vec::new()),
            latency: RefCell::new(BTreeMap::new()),
            after_candidates: RefCell::new(Vec::new()),
            calls: RefCell::new(Vec::new()),
            queries: RefCell::new(Vec::new()),
            claims: RefCell::new(Vec::new()),
        }))
    }

    /// The store's clock: milliseconds of (paused) tokio time since the
    /// store was built. What `updated_at` is measured in.
    pub fn now_ms(&self) -> i64 {
        i64::try_from(self.0.base.elapsed().as_millis()).expect("a test runs for less than 2^63 ms")
    }

    /// Every call of `op` fails with a [`StoreError`] (see [`injected`]).
    pub fn fail(&self, op: Op) {
        self.0.failures.borrow_mut().push((op, None));
    }

    /// Calls of `op` about workspace `id` fail.
    pub fn fail_for(&self, op: Op, id: &str) {
        self.0
            .failures
            .borrow_mut()
            .push((op, Some(WorkspaceId::from(id))));
    }

    /// Each call of `op` takes `d` of simulated time before it runs.
    pub fn latency(&self, op: Op, d: Duration) {
        self.0.latency.borrow_mut().insert(op, d);
    }

    /// Right after the next successful candidate query has computed its
    /// result (and before the reconciler sees it), apply `changes` to the
    /// table. This is how a race between the candidate read and the rest of
    /// the pass is staged: a real change every later statement observes.
    pub fn after_candidates(&self, changes: Vec<Change>) {
        self.0.after_candidates.borrow_mut().extend(changes);
    }

    /// Applies a change now.
    pub fn apply(&self, change: Change) {
        let now = self.now_ms();
        let mut rows = self.0.rows.borrow_mut();
        match change {
            Change::Delete(id) => {
                rows.remove(&WorkspaceId::from(id));
            }
            Change::SetInstance(id, instance) => {
                row_mut(&mut rows, id).instance = instance.map(str::to_owned);
            }
            Change::SetStatus(id, status) => {
                let row = row_mut(&mut rows, id);
                row.status = status;
                row.updated_at = now;
            }
            Change::SetRuntime(id, runtime) => {
                row_mut(&mut rows, id).runtime = runtime.map(str::to_owned);
            }
        }
    }

    /// The row `id` as it is now, if it exists.
    pub fn row(&self, id: &str) -> Option<Row> {
        self.0.rows.borrow().get(&WorkspaceId::from(id)).cloned()
    }

    /// The current status of `id` (panics if the row is gone).
    pub fn status(&self, id: &str) -> Status {
        self.row(id)
            .unwrap_or_else(|| panic!("row {id} is gone"))
            .status
    }

    /// Ids of the rows now `offline`, in id order.
    pub fn offline_ids(&self) -> Vec<String> {
        self.0
            .rows
            .borrow()
            .values()
            .filter(|r| r.status == Status::Offline)
            .map(|r| r.id.0.clone())
            .collect()
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.0.calls.borrow().clone()
    }

    /// `(op, workspace)` of every call so far, in arrival order.
    pub fn ops(&self) -> Vec<(Op, Option<String>)> {
        self.0
            .calls
            .borrow()
            .iter()
            .map(|c| (c.op, c.id.clone()))
            .collect()
    }

    /// How many calls of `op` arrived.
    pub fn count(&self, op: Op) -> usize {
        self.0.calls.borrow().iter().filter(|c| c.op == op).count()
    }

    /// Every candidate query asked for, in order.
    pub fn queries(&self) -> Vec<CandidateQuery> {
        self.0.queries.borrow().clone()
    }

    /// Every claim asked for, in order (whatever its outcome).
    pub fn claims(&self) -> Vec<Claim> {
        self.0.claims.borrow().clone()
    }

    /// Logs the call, waits its latency, then fails it if so injected.
    async fn begin(&self, op: Op, id: Option<&WorkspaceId>) -> Result<(), StoreError> {
        let at = self.0.base.elapsed();
        self.0.calls.borrow_mut().push(Call {
            op,
            id: id.map(|i| i.0.clone()),
            at,
        });
        let latency = self.0.latency.borrow().get(&op).copied();
        if let Some(d) = latency {
            tokio::time::sleep(d).await;
        }
        let fails = self
            .0
            .failures
            .borrow()
            .iter()
            .any(|(o, only)| *o == op && only.as_ref().is_none_or(|w| Some(w) == id));
        if fails {
            return Err(StoreError(injected_text(op)));
        }
        Ok(())
    }
}

fn row_mut<'a>(rows: &'a mut BTreeMap<WorkspaceId, Row>, id: &str) -> &'a mut Row {
    rows.get_mut(&WorkspaceId::from(id))
        .unwrap_or_else(|| panic!("no row {id} to change"))
}

fn injected_text(op: Op) -> String {
    format!("injected {op:?} failure")
}

/// The message of an injected store failure of `op`, as the reconciler
/// reports it (`StoreError`'s `Display`).
pub fn injected(op: Op) -> String {
    StoreError(injected_text(op)).to_string()
}

impl Store for FakeStore {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError> {
        self.0.queries.borrow_mut().push(query.clone());
        self.begin(Op::Candidates, None).await?;
        let mut rows: Vec<Row> = self
            .0
            .rows
            .borrow()
            .values()
            .filter(|r| {
                let instance = r.instance.clone().map(InstanceId);
                query.admits(&r.status, instance.as_ref(), r.runtime.as_deref())
                    && query.after_cursor(&r.id)
            })
            .cloned()
            .collect();
        match query.order {
            Order::UpdatedAtDesc => rows.sort_by(|a, b| {
                b.updated_at
                    .cmp(&a.updated_at)
                    .then_with(|| a.id.cmp(&b.id))
            }),
            Order::IdAfter(_) => rows.sort_by(|a, b| a.id.cmp(&b.id)),
        }
        rows.truncate(query.limit as usize);
        let result = rows
            .into_iter()
            .map(|r| Candidate {
                id: r.id,
                instance: query
                    .capture_instance
                    .then(|| InstanceId(r.instance.unwrap_or_default())),
            })
            .collect();
        let changes = std::mem::take(&mut *self.0.after_candidates.borrow_mut());
        for change in changes {
            self.apply(change);
        }
        Ok(result)
    }

    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError> {
        self.begin(Op::Reconfirm, Some(id)).await?;
        Ok(self.0.rows.borrow().get(id).map(|r| RowView {
            status: r.status.clone(),
            instance: InstanceId(r.instance.clone().unwrap_or_default()),
        }))
    }

    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError> {
        self.begin(Op::Resolve, Some(id)).await?;
        Ok(self
            .0
            .rows
            .borrow()
            .get(id)
            .and_then(|r| r.instance.clone())
            .filter(|i| !i.is_empty())
            .map(InstanceId))
    }

    async fn claim(&self, claim: &Claim) -> Result<bool, StoreError> {
        self.0.claims.borrow_mut().push(claim.clone());
        self.begin(Op::Claim, Some(&claim.id)).await?;
        let now = self.now_ms();
        let mut rows = self.0.rows.borrow_mut();
        let Some(row) = rows.get_mut(&claim.id) else {
            return Ok(false);
        };
        let quiet = claim.quiet_for.is_none_or(|q| {
            let q = i64::try_from(q.as_millis()).expect("a quiet period under 2^63 ms");
            row.updated_at <= now - q
        });
        let matches = !claim.instance.0.is_empty()
            && row.instance.as_deref() == Some(claim.instance.0.as_str())
            && row.status.is_live()
            && row.runtime.as_deref() != Some("external")
            && quiet;
        if matches {
            row.status = Status::Offline;
            row.updated_at = now;
        }
        Ok(matches)
    }
}

// ---------------------------------------------------------------------------
// The control plane
// ---------------------------------------------------------------------------

/// The control plane: a map from instance id to its answer.
///
/// An instance it has no entry for is answered [`InstanceState::NotFound`],
/// as the cloud answers for an id it does not know. The answer is read when
/// the call returns (after its latency), so a test can change it while a
/// call is in flight. Every request is logged when it arrives, so a request
/// that is later timed out or cancelled still counts as asked.
#[derive(Clone)]
pub struct FakeCp(Rc<CpInner>);

struct CpInner {
    base: Instant,
    answers: RefCell<BTreeMap<InstanceId, Result<InstanceState, CpError>>>,
    latency: RefCell<Duration>,
    latency_for: RefCell<BTreeMap<InstanceId, Duration>>,
    asked: RefCell<Vec<(String, Duration)>>,
}

impl Default for FakeCp {
    fn default() -> Self {
        Self(Rc::new(CpInner {
            base: Instant::now(),
            answers: RefCell::new(BTreeMap::new()),
            latency: RefCell::new(Duration::ZERO),
            latency_for: RefCell::new(BTreeMap::new()),
            asked: RefCell::new(Vec::new()),
        }))
    }
}

impl FakeCp {
    /// `instance` is in `state`.
    pub fn state(&self, instance: &str, state: InstanceState) {
        self.0
            .answers
            .borrow_mut()
            .insert(InstanceId::from(instance), Ok(state));
    }

    /// Asking about `instance` fails with `error`.
    pub fn error(&self, instance: &str, error: CpError) {
        self.0
            .answers
            .borrow_mut()
            .insert(InstanceId::from(instance), Err(error));
    }

    /// Every call takes `d` (unless a per-instance latency is set).
    pub fn latency(&self, d: Duration) {
        *self.0.latency.borrow_mut() = d;
    }

    /// Calls about `instance` take `d`.
    pub fn latency_for(&self, instance: &str, d: Duration) {
        self.0
            .latency_for
            .borrow_mut()
            .insert(InstanceId::from(instance), d);
    }

    /// The instance ids asked about, in order (repeats kept).
    pub fn asked(&self) -> Vec<String> {
        self.0
            .asked
            .borrow()
            .iter()
            .map(|(i, _)| i.clone())
            .collect()
    }

    /// The instance ids asked about, with the simulated time of each request.
    pub fn asked_at(&self) -> Vec<(String, Duration)> {
        self.0.asked.borrow().clone()
    }

    /// Forgets the request log (between passes).
    pub fn clear_asked(&self) {
        self.0.asked.borrow_mut().clear();
    }
}

impl ControlPlane for FakeCp {
    async fn instance_state(&self, instance: &InstanceId) -> Result<InstanceState, CpError> {
        let at = self.0.base.elapsed();
        self.0.asked.borrow_mut().push((instance.0.clone(), at));
        let latency = self
            .0
            .latency_for
            .borrow()
            .get(instance)
            .copied()
            .unwrap_or(*self.0.latency.borrow());
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        self.0
            .answers
            .borrow()
            .get(instance)
            .cloned()
            .unwrap_or(Ok(InstanceState::NotFound))
    }
}

// ---------------------------------------------------------------------------
// The offline handler
// ---------------------------------------------------------------------------

/// The platform's offline handler: records each call — the workspace, and
/// the instance the caller proved dead, if it passed one — so a test can
/// tell a flip from a skip (the table alone cannot: `legacy` and `pr2283`
/// write no status) and `hardened`'s claimed instance from the merged
/// code's bare workspace id.
#[derive(Clone)]
pub struct FakeHandler(Rc<HandlerInner>);

/// One `on_offline` call: `(workspace, proven instance, simulated time)`.
type HandlerCall = (String, Option<String>, Duration);

struct HandlerInner {
    base: Instant,
    calls: RefCell<Vec<HandlerCall>>,
}

impl Default for FakeHandler {
    fn default() -> Self {
        Self(Rc::new(HandlerInner {
            base: Instant::now(),
            calls: RefCell::new(Vec::new()),
        }))
    }
}

impl FakeHandler {
    /// The workspace ids flipped, in order.
    pub fn called(&self) -> Vec<String> {
        self.0
            .calls
            .borrow()
            .iter()
            .map(|(w, _, _)| w.clone())
            .collect()
    }

    /// `(workspace, proven instance)` of every call, in order.
    pub fn calls(&self) -> Vec<(String, Option<String>)> {
        self.0
            .calls
            .borrow()
            .iter()
            .map(|(w, i, _)| (w.clone(), i.clone()))
            .collect()
    }

    /// The workspace ids flipped, with the simulated time of each call.
    pub fn called_at(&self) -> Vec<(String, Duration)> {
        self.0
            .calls
            .borrow()
            .iter()
            .map(|(w, _, t)| (w.clone(), *t))
            .collect()
    }
}

impl OfflineHandler for FakeHandler {
    async fn on_offline(&self, id: &WorkspaceId, proven: Option<&InstanceId>) {
        let at = self.0.base.elapsed();
        self.0
            .calls
            .borrow_mut()
            .push((id.0.clone(), proven.map(|i| i.0.clone()), at));
    }
}

// ---------------------------------------------------------------------------
// The loop observer
// ---------------------------------------------------------------------------

/// Counts passes and records when each started and what it reported, so the
/// loop tests can assert how many passes ran and when.
pub struct Passes {
    base: Instant,
    /// `(pass number, simulated start time)`.
    pub started: Vec<(u64, Duration)>,
    /// `(pass number, simulated end time, report)`.
    pub finished: Vec<(u64, Duration, PassReport)>,
}

impl Default for Passes {
    fn default() -> Self {
        Self {
            base: Instant::now(),
            started: Vec::new(),
            finished: Vec::new(),
        }
    }
}

impl Passes {
    /// The start times of the passes, in seconds.
    pub fn start_secs(&self) -> Vec<u64> {
        self.started.iter().map(|(_, t)| t.as_secs()).collect()
    }
}

impl PassObserver for Passes {
    fn pass_started(&mut self, pass: u64) {
        self.started.push((pass, self.base.elapsed()));
    }

    fn pass_finished(&mut self, pass: u64, report: &PassReport) {
        self.finished
            .push((pass, self.base.elapsed(), report.clone()));
    }
}

// ---------------------------------------------------------------------------
// The world and its assertions
// ---------------------------------------------------------------------------

/// The reconciler under test, over the fakes.
pub type Rec = Reconciler<FakeStore, FakeCp, FakeHandler>;

/// One store, control plane and handler, and the rows the table started
/// with. The reconcilers it builds share the fakes with the test.
pub struct World {
    /// The table.
    pub store: FakeStore,
    /// The control plane.
    pub cp: FakeCp,
    /// The offline handler.
    pub handler: FakeHandler,
    initial: Vec<Row>,
}

impl World {
    /// A world whose table holds `rows` and whose control plane knows no
    /// instance yet.
    pub fn new(rows: Vec<Row>) -> Self {
        Self {
            store: FakeStore::new(rows.clone()),
            cp: FakeCp::default(),
            handler: FakeHandler::default(),
            initial: rows,
        }
    }

    /// A reconciler of `variant` with the reference configuration.
    pub fn reconciler(&self, variant: Variant) -> Rec {
        self.reconciler_with(variant, Config::default())
    }

    /// A reconciler of `variant` with `config`.
    pub fn reconciler_with(&self, variant: Variant, config: Config) -> Rec {
        Reconciler::new(
            variant,
            config,
            Some(self.store.clone()),
            Some(self.cp.clone()),
            self.handler.clone(),
        )
        .expect("valid config")
    }

    /// One pass of `variant` with the reference configuration.
    pub async fn pass(&self, variant: Variant) -> PassReport {
        self.reconciler(variant).pass().await
    }

    /// The instance row `id` started with (`None` for NULL or no such row).
    pub fn initial_instance(&self, id: &str) -> Option<String> {
        self.initial
            .iter()
            .find(|r| r.id.0 == id)
            .and_then(|r| r.instance.clone())
    }
}

/// What a variant is expected to do in one pass.
#[derive(Debug, Default)]
pub struct Expect {
    /// Instance ids asked of the control plane, in order.
    pub asked: Vec<&'static str>,
    /// Workspaces flipped (reported, and handed to the offline handler), in
    /// order.
    pub flipped: Vec<&'static str>,
    /// Workspaces left alone, with the reason, in order.
    pub skipped: Vec<(&'static str, SkipReason)>,
}

/// Checks a pass of `variant` against `expect`: the control plane's request
/// log, the flips the report claims, the offline handler's calls (with the
/// instance each passed: none for the merged signature, the claimed one for
/// `hardened`), the skip reasons, and the statuses: `legacy` and `pr2283`
/// write none (no claim is issued, no row is `offline` that was not), while
/// `hardened`'s flips are exactly the rows its claims set `offline`.
pub fn check(variant: Variant, world: &World, report: &PassReport, expect: &Expect) {
    assert_eq!(
        world.cp.asked(),
        expect.asked,
        "{variant}: instance ids asked of the control plane"
    );
    assert_eq!(
        strs(&report.flipped),
        expect.flipped,
        "{variant}: flips reported"
    );
    let expected_calls: Vec<(String, Option<String>)> = expect
        .flipped
        .iter()
        .map(|id| {
            let proven = match variant {
                Variant::Legacy | Variant::Pr2283 => None,
                Variant::Hardened => world.initial_instance(id),
            };
            ((*id).to_owned(), proven)
        })
        .collect();
    assert_eq!(
        world.handler.calls(),
        expected_calls,
        "{variant}: offline handler calls (workspace, proven instance)"
    );
    let skipped: Vec<(String, SkipReason)> = report
        .skipped
        .iter()
        .map(|(w, r)| (w.0.clone(), r.clone()))
        .collect();
    let expected_skips: Vec<(String, SkipReason)> = expect
        .skipped
        .iter()
        .map(|(w, r)| ((*w).to_owned(), r.clone()))
        .collect();
    assert_eq!(skipped, expected_skips, "{variant}: skips reported");

    let claimed: &[&str] = match variant {
        Variant::Legacy | Variant::Pr2283 => {
            assert_eq!(world.store.count(Op::Claim), 0, "{variant}: no claim");
            &[]
        }
        Variant::Hardened => &expect.flipped,
    };
    let mut expected_offline: Vec<String> = world
        .initial
        .iter()
        .filter(|r| r.status == Status::Offline)
        .map(|r| r.id.0.as_str())
        .chain(claimed.iter().copied())
        .filter(|id| world.store.row(id).is_some())
        .map(str::to_owned)
        .collect();
    expected_offline.sort();
    expected_offline.dedup();
    assert_eq!(
        world.store.offline_ids(),
        expected_offline,
        "{variant}: rows now offline in the table"
    );
}

/// Workspace ids as strings.
pub fn strs(ids: &[WorkspaceId]) -> Vec<String> {
    ids.iter().map(|w| w.0.clone()).collect()
}

/// `(op, Some(workspace))` for an expected store-call list.
pub fn on(op: Op, id: &str) -> (Op, Option<String>) {
    (op, Some(id.to_owned()))
}

/// The candidate query in an expected store-call list.
pub fn query() -> (Op, Option<String>) {
    (Op::Candidates, None)
}

/// Shorthand for durations in whole seconds.
pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Generates, for each named `async fn(Variant)`, a module of three paused-
/// time tests (`legacy`, `pr2283`, `hardened`) that run it for that variant.
/// The function holds the variant's expected outcome, written out per
/// variant, so each generated test can fail on its own.
#[allow(unused_macros, reason = "not every test file is per-variant")]
macro_rules! per_variant {
    ($($behaviour:ident),* $(,)?) => {$(
        mod $behaviour {
            use reconciler_core::Variant;

            #[tokio::test(start_paused = true)]
            async fn legacy() {
                super::$behaviour(Variant::Legacy).await;
            }

            #[tokio::test(start_paused = true)]
            async fn pr2283() {
                super::$behaviour(Variant::Pr2283).await;
            }

            #[tokio::test(start_paused = true)]
            async fn hardened() {
                super::$behaviour(Variant::Hardened).await;
            }
        }
    )*};
}
#[allow(unused_imports, reason = "not every test file is per-variant")]
pub(crate) use per_variant;
