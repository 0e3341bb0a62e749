//! A `workspaces` row as ground truth holds it, and the trace's time format.

use std::time::Duration;

pub use reconciler_core::Row;

/// Formats a duration as seconds with millisecond precision (`12.345s`),
/// the one time format of every trace.
pub fn fmt_time(d: Duration) -> String {
    format!("{}.{:03}s", d.as_secs(), d.subsec_millis())
}
