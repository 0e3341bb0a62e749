//! Noticing that the reconciler gave up on a call.
//!
//! When a timeout fires, tokio drops the call's future mid-flight; the world
//! never gets a "done". This guard turns that drop into a trace event, so the
//! oracle knows the call ended in a timeout (an error) rather than silence.

use crate::shared::Shared;
use crate::trace::{Call, Event, Replica};

/// Records [`Event::Abandoned`] if dropped before [`Abandon::done`].
///
/// It borrows what the call is about and copies it only when it fires:
/// calls almost always complete, and this guard is armed on every one.
pub struct Abandon<'a> {
    armed: Option<(&'a Shared, Replica, Call, &'a str)>,
}

impl<'a> Abandon<'a> {
    /// Arms the guard for `r`'s call `call` about `about`.
    pub fn new(shared: &'a Shared, r: Replica, call: Call, about: &'a str) -> Self {
        Self {
            armed: Some((shared, r, call, about)),
        }
    }

    /// The call completed.
    pub fn done(mut self) {
        self.armed = None;
    }
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if let Some((shared, r, call, about)) = self.armed.take() {
            shared.world.borrow_mut().record(Event::Abandoned {
                r,
                call,
                about: about.to_owned(),
            });
        }
    }
}
