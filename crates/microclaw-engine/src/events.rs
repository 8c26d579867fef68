//! Engine-wide events fanned out to every bridge connection (and the desktop shell).

use serde_json::Value;

#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// `sessions.changed` with reason created | updated | deleted | forked | reset; `row` is the
    /// session after the change when the emitter has it (its fields ride along flat, as
    /// OpenClaw's subscribers read them).
    SessionsChanged {
        key: String,
        reason: &'static str,
        row: Option<std::sync::Arc<microclaw_store::SessionRow>>,
    },
    /// An SLO alert started or cleared (`slo.alert` payload).
    SloAlert(Value),
    /// A scheduler `cron` event (`openclaw-methods.md` §4.7: added, updated, removed, started,
    /// finished; a dead-lettered run is `finished` with `deadLettered: true`).
    Cron(Value),
    /// An operator connection joined or left.
    PresenceChanged,
    /// Graceful stop is starting: tell clients (`shutdown` event); runs are being ended.
    Shutdown { reason: String },
    /// Graceful stop is done (runs ended, metrics flushed): close the connections now.
    Closed,
    /// An API key was revoked: its open bridge connections must close.
    KeyRevoked { key_id: i64 },
    /// A login session was revoked (logout, password change).
    LoginSessionRevoked { id_hash: String },
    /// One OpenClaw `agent` event of a run (lifecycle, assistant, tool).
    Agent(std::sync::Arc<microclaw_agent::AgentEvent>),
    /// A device waits for approval (`device.pair.requested`: the pending-request record).
    DevicePairRequested(Value),
    /// A pairing request was settled (`device.pair.resolved {requestId, deviceId, decision, ts}`).
    DevicePairResolved(Value),
    /// The device list changed otherwise (`device.pair.changed {}`: refetch).
    DevicePairChanged,
    /// A device was removed or revoked: its open bridge connections must close.
    DeviceAccessEnded { device_id: String },
    /// A remote gateway stayed down for `fleet.down_alert_after` probes (`state: "firing"`)
    /// or came back (`"resolved"`): the `gateway.alert` payload.
    GatewayAlert(Value),
    /// A tool call waits for an operator (`exec.approval.requested`: the approval record);
    /// `pending` is how many approvals are still waiting after this change (the tray badge).
    ApprovalRequested { record: Value, pending: usize },
    /// An approval was settled (`exec.approval.resolved {id, decision, resolvedBy, resolvedAtMs}`);
    /// `pending` as above.
    ApprovalResolved { payload: Value, pending: usize },
    /// Use crossed 80 % of a budget cap (`budget.warning` payload).
    BudgetWarning(Value),
    /// An incident was opened or changed (`incident` payload: the incident without its timeline).
    Incident(Value),
    /// The change freeze went on or off (`freeze` payload `{active, reason, until, incidentId}`).
    FreezeChanged(Value),
}
