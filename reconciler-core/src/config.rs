//! Timing and sizing of the loop, validated once at construction.

use std::time::Duration;

/// The reconciler's knobs, defaulting to the reference constants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Time between passes. Zero falls back to 60 s, as `interval <= 0` does
    /// in the reference (a `Duration` cannot be negative).
    pub interval: Duration,
    /// `cpInstanceCycleDeadline`: how long one pass may process rows.
    /// `legacy` ignores it, which is its MED-2 bug.
    pub pass_deadline: Duration,
    /// Per-workspace control-plane probe timeout.
    pub probe_timeout: Duration,
    /// Timeout of the re-confirm read (and of `hardened`'s guarded write).
    pub reconfirm_timeout: Duration,
    /// `CPInstanceReconcileLimit`: rows per candidate query.
    pub limit: u32,
    /// `hardened` only: how long a row must have gone unwritten before a
    /// "not found" (404) answer about its instance is taken as proof of
    /// death. Cloud APIs are eventually consistent: an instance launched a
    /// moment ago can be reported as not found. Every write that records an
    /// instance on a row bumps `updated_at`, so a row quiet for longer than
    /// the control plane's consistency lag holds an instance the control
    /// plane has had time to see. Must exceed that lag.
    pub not_found_quiet: Duration,
}

/// The interval used when the configured one is zero.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

impl Default for Config {
    fn default() -> Self {
        Self {
            interval: DEFAULT_INTERVAL,
            pass_deadline: Duration::from_secs(45),
            probe_timeout: Duration::from_secs(10),
            reconfirm_timeout: Duration::from_secs(5),
            limit: 200,
            not_found_quiet: Duration::from_secs(60),
        }
    }
}

/// Why a [`Config`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A timeout of zero would fail every call, silently disabling the loop.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// A pass that may outlive the interval makes passes overlap in time.
    #[error("pass_deadline ({deadline:?}) must be shorter than the interval ({interval:?})")]
    DeadlineNotUnderInterval {
        /// The configured deadline.
        deadline: Duration,
        /// The effective interval.
        interval: Duration,
    },
    /// `LIMIT 0` selects nothing, silently disabling the loop.
    #[error("limit must be at least 1")]
    ZeroLimit,
}

impl Config {
    /// The interval actually used: zero means the default.
    pub fn effective_interval(&self) -> Duration {
        if self.interval.is_zero() {
            DEFAULT_INTERVAL
        } else {
            self.interval
        }
    }

    /// Checks the invariants the loop relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in [
            ("pass_deadline", self.pass_deadline),
            ("probe_timeout", self.probe_timeout),
            ("reconfirm_timeout", self.reconfirm_timeout),
            ("not_found_quiet", self.not_found_quiet),
        ] {
            if d.is_zero() {
                return Err(ConfigError::Zero(name));
            }
        }
        if self.limit == 0 {
            return Err(ConfigError::ZeroLimit);
        }
        let interval = self.effective_interval();
        if self.pass_deadline >= interval {
            return Err(ConfigError::DeadlineNotUnderInterval {
                deadline: self.pass_deadline,
                interval,
            });
        }
        Ok(())
    }
}
