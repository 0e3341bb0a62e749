//! The names of variants, statuses and instance states: how they print and
//! parse, and the error for an unknown variant.

use reconciler_core::{InstanceState, Status, UnknownVariant, Variant};

#[test]
fn variant_display_and_from_str_round_trip() {
    let names: Vec<String> = Variant::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["legacy", "pr2283", "hardened"]);
    for v in Variant::ALL {
        assert_eq!(v.to_string().parse::<Variant>(), Ok(v));
        assert_eq!(v.as_str(), v.to_string());
    }
}

#[test]
fn hardened_is_the_default() {
    assert_eq!(Variant::default(), Variant::Hardened);
}

#[test]
fn unknown_variant_names_are_refused_with_the_accepted_list() {
    for name in ["", "Legacy", "PR2283", "pr-2283", "hardened ", "latest"] {
        assert_eq!(
            name.parse::<Variant>(),
            Err(UnknownVariant(name.to_owned())),
            "{name:?}"
        );
    }
    let err = "pr-2283".parse::<Variant>().unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"unknown variant "pr-2283": expected one of legacy, pr2283, hardened"#
    );
}

#[test]
fn instance_state_wire_names_round_trip() {
    let names: Vec<&str> = InstanceState::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        names,
        [
            "pending",
            "running",
            "stopping",
            "stopped",
            "shutting-down",
            "terminated",
            "not-found",
            "unrecognized"
        ]
    );
    for s in InstanceState::ALL {
        assert_eq!(InstanceState::parse(s.as_str()), Some(s));
        assert_eq!(s.to_string(), s.as_str());
    }
    assert_eq!(InstanceState::parse("Running"), None);
    let terminal: Vec<InstanceState> = InstanceState::ALL
        .into_iter()
        .filter(|s| s.is_terminal())
        .collect();
    assert_eq!(
        terminal,
        [
            InstanceState::ShuttingDown,
            InstanceState::Terminated,
            InstanceState::NotFound
        ]
    );
}

#[test]
fn status_text_round_trips_and_keeps_unknown_values() {
    for s in [
        Status::Online,
        Status::Degraded,
        Status::Offline,
        Status::Provisioning,
        Status::Paused,
        Status::Hibernating,
        Status::Hibernated,
        Status::Removed,
        Status::Other("deleting".into()),
    ] {
        assert_eq!(Status::parse(s.as_str()), s);
        assert_eq!(s.to_string(), s.as_str());
    }
    assert_eq!(Status::parse("ONLINE"), Status::Other("ONLINE".into()));
    let platform = [Status::Hibernating, Status::Hibernated, Status::Removed];
    let names: Vec<&str> = platform.iter().map(Status::as_str).collect();
    assert_eq!(names, ["hibernating", "hibernated", "removed"]);
    let live: Vec<&str> = [
        "online",
        "degraded",
        "offline",
        "provisioning",
        "paused",
        "hibernating",
        "hibernated",
        "removed",
        "x",
    ]
    .into_iter()
    .filter(|s| Status::parse(s).is_live())
    .collect();
    assert_eq!(live, ["online", "degraded"]);
}
