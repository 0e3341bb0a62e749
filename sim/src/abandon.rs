//! Noticing that the reconciler gave up on a call.
//!
//! When a timeout fires, tokio drops the call's future mid-flight; the world
//! never gets a "done". This guard turns that drop into a trace event, so the
//! oracle knows the call ended in a timeout (an error) rather than silence.

use std::rc::Rc;

use crate::shared::Shared;
use crate::trace::Event;

/// Records [`Event::Abandoned`] if dropped before [`Abandon::done`].
pub struct Abandon {
    armed: Option<(Rc<Shared>, &'static str, String)>,
}

impl Abandon {
    /// Arms the guard for call `what` about `about`.
    pub fn new(shared: &Rc<Shared>, what: &'static str, about: String) -> Self {
        Self {
            armed: Some((Rc::clone(shared), what, about)),
        }
    }

    /// The call completed.
    pub fn done(mut self) {
        self.armed = None;
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if let Some((shared, what, about)) = self.armed.take() {
            shared.record(Event::Abandoned(what, about));
        }
    }
}
