//! Noticing that the reconciler gave up on a call.
//!
//! When a timeout fires, tokio drops the call's future mid-flight; the world
//! never gets a "done". This guard turns that drop into a trace event, so the
//! oracle knows the call ended in a timeout (an error) rather than silence.

use crate::shared::Shared;
use crate::trace::Event;

/// Records [`Event::Abandoned`] if dropped before [`Abandon::done`].
///
/// It borrows what the call is about and copies it only when it fires:
/// calls almost always complete, and this guard is armed on every one.
pub struct Abandon<'a> {
    armed: Option<(&'a Shared, &'static str, &'a str)>,
}

impl<'a> Abandon<'a> {
    /// Arms the guard for call `what` about `about`.
    pub fn new(shared: &'a Shared, what: &'static str, about: &'a str) -> Self {
        Self {
            armed: Some((shared, what, about)),
        }
    }

    /// The call completed.
    pub fn done(mut self) {
        self.armed = None;
    }
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if let Some((shared, what, about)) = self.armed.take() {
            shared.record(Event::Abandoned(what, about.to_owned()));
        }
    }
}
