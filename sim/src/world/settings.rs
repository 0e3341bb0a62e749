//! The settings of a simulated platform that its code does not fix: where
//! versions of the platform differ, or where the reference leaves a choice
//! to the deployment, the world takes a setting instead of picking one
//! silently, and the swarm explores every value.

use std::fmt;
use std::time::Duration;

/// Which platform the world runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlatformMode {
    /// The platform's code as merged: multi-step flows with unguarded
    /// writes, `RestartByID` stopping whatever the control plane holds for
    /// the workspace.
    #[default]
    AsMerged,
    /// The fix this project proposes to the platform's owners
    /// (`docs/decisions.md`): every flow first claims the row with a guarded
    /// status write from a settled status (the Hibernate pattern), so at
    /// most one flow owns a workspace at a time, and stops the instance it
    /// claimed, by instance id.
    Hardened,
}

impl std::str::FromStr for PlatformMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        PlatformMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown platform {s:?}: expected one of {}",
                    PlatformMode::ALL.map(PlatformMode::as_str).join(", ")
                )
            })
    }
}

impl PlatformMode {
    /// Every mode.
    pub const ALL: [PlatformMode; 2] = [PlatformMode::AsMerged, PlatformMode::Hardened];

    /// The name in scenario files and on command lines.
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformMode::AsMerged => "as-merged",
            PlatformMode::Hardened => "hardened",
        }
    }
}

/// Whether every heartbeat bumps `updated_at`, or only one that changes the
/// status. The reference says the heartbeat handler "bumps `updated_at`";
/// whether it writes the row on every beat decides where live rows sort in
/// `ORDER BY updated_at DESC`, so both are explored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HeartbeatWrites {
    /// Every heartbeat writes `updated_at = now()`.
    #[default]
    Every,
    /// Only a heartbeat that moves the status writes the row.
    OnChange,
}

impl HeartbeatWrites {
    /// The name in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            HeartbeatWrites::Every => "every",
            HeartbeatWrites::OnChange => "on-change",
        }
    }
}

/// What the control plane answers about an instance it has reaped: a
/// property of the control plane, not of the client, so both are explored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reaped {
    /// HTTP 404.
    #[default]
    NotFound,
    /// `200 {"state": "terminated"}`.
    Terminated,
}

impl Reaped {
    /// The name in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Reaped::NotFound => "404",
            Reaped::Terminated => "terminated",
        }
    }
}

/// Everything about the simulated platform and control plane that a seed
/// draws or a scenario sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorldSettings {
    /// The platform's code, as merged or with the proposed fix.
    pub platform: PlatformMode,
    /// Whether every heartbeat writes the row.
    pub heartbeat: HeartbeatWrites,
    /// Newer platforms stop a paused workspace's instance; older ones only
    /// change the status and leave a SaaS instance running.
    pub pause_stops: bool,
    /// Older platforms provision in a goroutine, so a `RestartByID` cycle
    /// ends as soon as the launch is under way; newer ones wait for it.
    pub async_provision: bool,
    /// What the control plane says about a reaped instance.
    pub reaped: Reaped,
    /// How far behind the cloud the control plane's view is (eventual
    /// consistency): a just-launched instance is not found for this long,
    /// and a just-terminated one still runs.
    pub lag: Duration,
}

impl WorldSettings {
    /// The platform as the reference describes its current version, with a
    /// control plane that is consistent and answers 404 for reaped
    /// instances: what a scenario gets unless it says otherwise.
    pub fn current() -> Self {
        Self {
            pause_stops: true,
            ..Self::default()
        }
    }
}

impl fmt::Display for WorldSettings {
    /// One line per setting, for the head of a replay.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "platform     {}", self.platform.as_str())?;
        writeln!(
            f,
            "heartbeats   {} write updated_at",
            self.heartbeat.as_str()
        )?;
        writeln!(
            f,
            "pause        {}",
            if self.pause_stops {
                "stops the instance"
            } else {
                "status only (older platform)"
            }
        )?;
        writeln!(
            f,
            "provision    {}",
            if self.async_provision {
                "in a goroutine (older platform)"
            } else {
                "synchronous"
            }
        )?;
        writeln!(f, "cp reaped    {}", self.reaped.as_str())?;
        writeln!(f, "cp lag       {} ms", self.lag.as_millis())
    }
}
