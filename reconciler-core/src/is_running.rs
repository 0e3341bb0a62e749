//! `IsRunning`, the probe the merged reconciler relies on, reproduced with its
//! answers table (it is unchanged by PR #2283, and shared with other sweeps).
//!
//! Its defining trait is that it **re-resolves** the instance id from the
//! database by workspace id instead of using the one the candidate query saw,
//! and that it answers "not running" without asking the control plane when
//! no instance is recorded. Both are how the HIGH-1 TOCTOU arises.

use tracing::debug;

use crate::model::{InstanceState, WorkspaceId};
use crate::ports::{ControlPlane, Store};

/// `IsRunning(ctx, workspace_id)`: `Ok(true)` running, `Ok(false)` the
/// reference's `(false, nil)`, `Err` the reference's `(true, err)`.
///
/// | situation | result |
/// | --- | --- |
/// | instance lookup fails | `Err` |
/// | no instance recorded (NULL, `''`, row gone) | `Ok(false)`, CP not asked |
/// | transport error, non-2xx (including not-found), undecodable | `Err` |
/// | `running` | `Ok(true)` |
/// | any other state, an empty or unknown one included | `Ok(false)` |
pub async fn is_running<S: Store, C: ControlPlane>(
    store: &S,
    cp: &C,
    id: &WorkspaceId,
) -> Result<bool, String> {
    let instance = match store.resolve_instance(id).await {
        Ok(Some(i)) if !i.0.is_empty() => i,
        Ok(_) => {
            debug!(workspace = %id, "is_running: no instance recorded, answering not running");
            return Ok(false);
        }
        Err(e) => return Err(e.to_string()),
    };
    match cp.instance_state(&instance).await {
        Ok(InstanceState::NotFound) => Err("control plane answered HTTP 404".to_owned()),
        Ok(state) => Ok(state == InstanceState::Running),
        Err(e) => Err(e.to_string()),
    }
}
