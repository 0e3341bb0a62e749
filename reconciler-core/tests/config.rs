//! Configuration: the reference constants, the zero-interval fallback, and
//! the configurations `Config::validate` (and so `Reconciler::new`) refuses.

mod common;

use std::time::Duration;

use common::*;
use reconciler_core::{Config, ConfigError, DEFAULT_INTERVAL, Reconciler, Variant};
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;

#[test]
fn defaults_are_the_reference_constants() {
    let c = Config::default();
    assert_eq!(c.interval, secs(60));
    assert_eq!(c.pass_deadline, secs(45));
    assert_eq!(c.probe_timeout, secs(10));
    assert_eq!(c.reconfirm_timeout, secs(5));
    assert_eq!(c.limit, 200);
    assert_eq!(c.not_found_quiet, secs(60));
    assert_eq!(DEFAULT_INTERVAL, secs(60));
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn zero_interval_means_sixty_seconds() {
    let c = Config {
        interval: Duration::ZERO,
        ..Config::default()
    };
    assert_eq!(c.effective_interval(), secs(60));
    assert_eq!(c.validate(), Ok(()));
    let c = Config {
        interval: secs(90),
        ..Config::default()
    };
    assert_eq!(c.effective_interval(), secs(90));
}

/// The fallback is what the loop really uses: passes at 0, 60 and 120 s.
#[tokio::test(start_paused = true)]
async fn zero_interval_loop_ticks_every_sixty_seconds() {
    for variant in Variant::ALL {
        let w = World::new(fleet(1));
        w.cp.state("i-01", reconciler_core::InstanceState::Running);
        let mut rec = w.reconciler_with(
            variant,
            Config {
                interval: Duration::ZERO,
                ..Config::default()
            },
        );
        let cancel = CancellationToken::new();
        let mut passes = Passes::default();
        tokio::join!(rec.run(&cancel, &mut passes), async {
            sleep(secs(150)).await;
            cancel.cancel();
        });
        assert_eq!(passes.start_secs(), [0, 60, 120], "{variant}");
    }
}

#[test]
fn deadline_not_under_the_interval_is_refused() {
    for (interval, deadline, effective) in [
        (secs(60), secs(60), secs(60)),
        (secs(60), secs(61), secs(60)),
        (Duration::ZERO, secs(60), secs(60)), // checked against the fallback
        (secs(30), secs(45), secs(30)),
    ] {
        let c = Config {
            interval,
            pass_deadline: deadline,
            ..Config::default()
        };
        assert_eq!(
            c.validate(),
            Err(ConfigError::DeadlineNotUnderInterval {
                deadline,
                interval: effective,
            }),
            "interval {interval:?}, deadline {deadline:?}"
        );
    }
    let c = Config {
        pass_deadline: secs(59),
        ..Config::default()
    };
    assert_eq!(c.validate(), Ok(()), "just under the interval is fine");
    let err = Config {
        pass_deadline: secs(60),
        ..Config::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "pass_deadline (60s) must be shorter than the interval (60s)"
    );
}

#[test]
fn zero_limit_is_refused() {
    let c = Config {
        limit: 0,
        ..Config::default()
    };
    assert_eq!(c.validate(), Err(ConfigError::ZeroLimit));
    assert_eq!(
        ConfigError::ZeroLimit.to_string(),
        "limit must be at least 1"
    );
    let c = Config {
        limit: 1,
        ..Config::default()
    };
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn zero_timeouts_are_refused_by_name() {
    let zero = Duration::ZERO;
    let cases = [
        (
            "pass_deadline",
            Config {
                pass_deadline: zero,
                ..Config::default()
            },
        ),
        (
            "probe_timeout",
            Config {
                probe_timeout: zero,
                ..Config::default()
            },
        ),
        (
            "reconfirm_timeout",
            Config {
                reconfirm_timeout: zero,
                ..Config::default()
            },
        ),
        (
            "not_found_quiet",
            Config {
                not_found_quiet: zero,
                ..Config::default()
            },
        ),
    ];
    for (name, c) in cases {
        assert_eq!(c.validate(), Err(ConfigError::Zero(name)));
        assert_eq!(
            ConfigError::Zero(name).to_string(),
            format!("{name} must be greater than zero")
        );
    }
}

/// A zero quiet period would let a "not found" from a control plane that has
/// not yet seen a just-launched instance flip it: refused, for every variant
/// (the value is only read by `hardened`, but a config is one thing); a
/// millisecond is accepted.
#[test]
fn zero_not_found_quiet_is_refused() {
    let c = Config {
        not_found_quiet: Duration::ZERO,
        ..Config::default()
    };
    assert_eq!(c.validate(), Err(ConfigError::Zero("not_found_quiet")));
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "not_found_quiet must be greater than zero"
    );
    let c = Config {
        not_found_quiet: Duration::from_millis(1),
        ..Config::default()
    };
    assert_eq!(c.validate(), Ok(()));
}

/// `Reconciler::new` validates: a bad config never builds a reconciler.
#[tokio::test(start_paused = true)]
async fn reconciler_new_refuses_an_invalid_config() {
    let w = World::new(fleet(1));
    for variant in Variant::ALL {
        let built: Result<Rec, _> = Reconciler::new(
            variant,
            Config {
                limit: 0,
                ..Config::default()
            },
            Some(w.store.clone()),
            Some(w.cp.clone()),
            w.handler.clone(),
        );
        assert_eq!(built.err(), Some(ConfigError::ZeroLimit), "{variant}");
        let built: Result<Rec, _> = Reconciler::new(
            variant,
            Config {
                not_found_quiet: Duration::ZERO,
                ..Config::default()
            },
            Some(w.store.clone()),
            Some(w.cp.clone()),
            w.handler.clone(),
        );
        assert_eq!(
            built.err(),
            Some(ConfigError::Zero("not_found_quiet")),
            "{variant}"
        );
        let rec = w.reconciler(variant);
        assert_eq!(rec.variant(), variant);
    }
}
