//! The scripted director: fires each hook step at its matching firing.

use std::cell::RefCell;
use std::rc::Rc;

use reconciler_core::WorkspaceId;

use super::script::HookStep;
use crate::action::Action;
use crate::director::Director;
use crate::hook::Hook;
use crate::world::World;

/// One hook firing of a run: the hook and the workspace it was about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firing {
    /// The hook point.
    pub hook: Hook,
    /// The workspace the operation was about, if any.
    pub ws: Option<WorkspaceId>,
}

/// Fires each step at the `nth` firing of its hook that matches its
/// workspace filter, and logs every firing when asked (exhaustive mode
/// enumerates placements over a baseline run's log).
pub struct ScriptDirector {
    steps: Vec<HookStep>,
    matched: Vec<u64>,
    log: Rc<RefCell<Vec<Firing>>>,
    logging: bool,
}

impl ScriptDirector {
    /// A director for `steps` that logs every firing.
    pub fn new(steps: Vec<HookStep>) -> Self {
        let matched = vec![0; steps.len()];
        Self {
            steps,
            matched,
            log: Rc::default(),
            logging: true,
        }
    }

    /// A director for `steps` that logs no firing: the log grows with
    /// simulated time (every pass fires hooks for every row), so a run
    /// kept for its verdict only (`sim run`) must not keep it.
    pub fn unlogged(steps: Vec<HookStep>) -> Self {
        Self {
            logging: false,
            ..Self::new(steps)
        }
    }

    /// The log of firings, shared: it fills while the run goes on and can
    /// be read once the run is over.
    pub fn firings(&self) -> Rc<RefCell<Vec<Firing>>> {
        Rc::clone(&self.log)
    }
}

impl Director for ScriptDirector {
    fn at_hook(&mut self, hook: Hook, ws: Option<&WorkspaceId>, _world: &World) -> Vec<Action> {
        if self.logging {
            self.log.borrow_mut().push(Firing {
                hook,
                ws: ws.cloned(),
            });
        }
        let mut out = Vec::new();
        for (step, count) in self.steps.iter().zip(self.matched.iter_mut()) {
            if !step.matches(hook, ws) {
                continue;
            }
            *count += 1;
            if *count == step.nth {
                out.extend(step.actions.iter().cloned());
            }
        }
        out
    }
}
