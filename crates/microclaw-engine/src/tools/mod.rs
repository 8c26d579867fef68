//! The acting tools (operations.md §1): `run_command` and `write_file`, each working in the
//! session's workspace and offered only to agents whose config lists them.

pub mod run_command;
pub mod workspace;
pub mod write_file;

use microclaw_agent::openai::ToolSpec;
use microclaw_core::config::ApprovalsConfig;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The kind of a JSON value, for error messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The spec of an acting tool as offered to the model.
pub fn spec(name: &str) -> Option<ToolSpec> {
    let (description, parameters) = match name {
        "run_command" => (
            "Run one command in this session's workspace directory (no shell: no pipes, \
             redirections or variables). Needs an operator's approval unless configured otherwise.",
            json!({"type": "object", "required": ["command"], "properties": {
                "command": {"type": "string", "description": "e.g. \"ls -la\""}}}),
        ),
        "write_file" => (
            "Write a text file inside this session's workspace (relative path, parents created). \
             Needs an operator's approval unless configured otherwise.",
            json!({"type": "object", "required": ["path", "content"], "properties": {
                "path": {"type": "string", "description": "relative, e.g. \"notes/todo.md\""},
                "content": {"type": "string"}}}),
        ),
        _ => return None,
    };
    Some(ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        parameters,
    })
}

/// What an approval shows for a call: the exact command text, or the argument error (bad
/// arguments are refused before an operator is asked).
pub fn command_text(name: &str, args: &Value) -> Result<String, String> {
    match name {
        "run_command" => {
            // A command that cannot be split is refused before anyone is asked about it.
            let text = run_command::command_text(args)?;
            run_command::argv(&text)?;
            Ok(text)
        }
        "write_file" => {
            let (path, content) = write_file::parse(args)?;
            Ok(write_file::command_text(&path, &content))
        }
        other => Err(format!("'{other}' is not an acting tool")),
    }
}

/// Runs an acting tool for `session_key` (approval already settled).
pub async fn execute(
    data_dir: &Path,
    cfg: &ApprovalsConfig,
    session_key: &str,
    name: &str,
    args: Value,
    cancel: &CancellationToken,
) -> Result<Value, String> {
    let ws = workspace::ensure(data_dir, session_key)?;
    match name {
        "run_command" => {
            let argv = run_command::argv(&run_command::command_text(&args)?)?;
            run_command::run(
                &argv,
                &ws,
                Duration::from_millis(cfg.command_timeout_ms),
                cfg.command_output_bytes,
                cancel,
            )
            .await
        }
        "write_file" => {
            let (path, content) = write_file::parse(&args)?;
            tokio::task::spawn_blocking(move || write_file::write(&ws, &path, &content))
                .await
                .map_err(|e| format!("write_file: the write task failed: {e}"))?
        }
        other => Err(format!("'{other}' is not an acting tool")),
    }
}
