//! The built-in operator agent: no network, answers a few commands about the running system.
//!
//! Commands: `status summary` / `/status`, `/help`, `/echo TEXT`, `/slow SECONDS`, `/fail`.
//! Anything else gets a short note on what this agent is and how to connect an LLM provider.

use crate::agent::{estimate_tokens, Agent, AgentRequest, AgentUsage, BoxFuture};
use crate::chunk_stream::{send_chunk, stream_text, StreamEnd};
use crate::status_text::render_status;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The built-in agent's id (always present in an [`crate::AgentSet`]).
pub const BUILTIN_ID: &str = "builtin";
/// The built-in agent's model name.
pub const BUILTIN_MODEL: &str = "builtin-operator";
/// Upper bound of `/slow SECONDS`.
pub const SLOW_MAX_SECONDS: f64 = 600.0;
/// Interval between two `/slow` chunks.
pub const SLOW_TICK: Duration = Duration::from_millis(200);

/// Returns the engine's status snapshot (version, uptimeMs, sessions, activeRuns, connections, slo).
pub type StatusProvider = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

pub const HELP_TEXT: &str = "Built-in operator agent commands:\n\
  status summary (or /status)  show version, uptime, sessions, active runs, connections and SLO state\n\
  /help                        this list\n\
  /echo TEXT                   reply with TEXT\n\
  /slow SECONDS                stream a line about every 200 ms for that long (at most 600 s; abort stops it)\n\
  /fail                        end the run with an error (to test error handling)\n";

const ABOUT_TEXT: &str =
    "I am the built-in operator agent of MicroClaw Console: I answer `status summary`, \
`/help`, `/echo`, `/slow` and `/fail`, and nothing else. To chat with a language model, add an \
OpenAI-compatible provider to the config, e.g.\n\n[agents]\ndefault = \"gpt\"\n\n[agents.gpt]\n\
kind = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"llama3.1\"\n\
api_key_env = \"OPENAI_API_KEY\"   # optional: the variable holding the key\n\n\
then restart the gateway. Type /help for my commands.\n";

/// What the agent will do for one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Status,
    Help,
    Echo(String),
    Slow(Duration),
    Fail,
    Unknown(String),
    About,
}

/// Parses a message into a command; a bad `/slow` argument is an error saying what is expected.
pub fn parse_command(message: &str) -> Result<Command, String> {
    let msg = message.trim();
    let lower = msg.to_ascii_lowercase();
    if lower == "status summary" || lower == "/status" || lower == "status" {
        return Ok(Command::Status);
    }
    if !msg.starts_with('/') {
        return Ok(Command::About);
    }
    let (cmd, arg) = match msg.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (msg, ""),
    };
    match cmd.to_ascii_lowercase().as_str() {
        "/help" => Ok(Command::Help),
        "/echo" => Ok(Command::Echo(arg.to_string())),
        "/fail" => Ok(Command::Fail),
        "/slow" => {
            let secs: f64 = arg.parse().map_err(|_| {
                format!("invalid /slow argument '{arg}': expected a number of seconds, 0 to {SLOW_MAX_SECONDS}")
            })?;
            if !secs.is_finite() || secs < 0.0 {
                return Err(format!(
                    "invalid /slow argument '{arg}': expected a number of seconds, 0 to {SLOW_MAX_SECONDS}"
                ));
            }
            Ok(Command::Slow(Duration::from_secs_f64(
                secs.min(SLOW_MAX_SECONDS),
            )))
        }
        other => Ok(Command::Unknown(other.to_string())),
    }
}

/// The built-in operator agent.
pub struct BuiltinAgent {
    status: StatusProvider,
}

impl BuiltinAgent {
    pub fn new(status: StatusProvider) -> Self {
        BuiltinAgent { status }
    }
}

impl Agent for BuiltinAgent {
    fn id(&self) -> &str {
        BUILTIN_ID
    }
    fn model(&self) -> &str {
        BUILTIN_MODEL
    }
    fn name(&self) -> &str {
        "Built-in operator agent"
    }
    fn provider(&self) -> &str {
        "microclaw"
    }

    fn run(
        &self,
        req: AgentRequest,
        out: mpsc::Sender<String>,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<AgentUsage, String>> {
        let status = self.status.clone();
        Box::pin(async move {
            let input_tokens = estimate_tokens(&req.message);
            let reply = match parse_command(&req.message)? {
                Command::Status => render_status(&status()),
                Command::Help => HELP_TEXT.to_string(),
                Command::Echo(text) if text.is_empty() => "usage: /echo TEXT\n".to_string(),
                Command::Echo(text) => text,
                Command::Fail => return Err("simulated failure (/fail)".to_string()),
                Command::Unknown(cmd) => format!("unknown command {cmd}\n\n{HELP_TEXT}"),
                Command::About => ABOUT_TEXT.to_string(),
                Command::Slow(duration) => {
                    let sent = slow(duration, &out, &cancel).await;
                    return Ok(AgentUsage {
                        input_tokens,
                        output_tokens: estimate_tokens(&sent),
                        ..Default::default()
                    });
                }
            };
            // A cancelled stream still returns: the registry already ended the run as aborted.
            let _end: StreamEnd = stream_text(&reply, &out, &cancel).await;
            Ok(AgentUsage {
                input_tokens,
                output_tokens: estimate_tokens(&reply),
                ..Default::default()
            })
        })
    }
}

/// Streams `[slow] t/T s` lines every [`SLOW_TICK`] for `duration`; returns what was sent.
async fn slow(
    duration: Duration,
    out: &mpsc::Sender<String>,
    cancel: &CancellationToken,
) -> String {
    let start = tokio::time::Instant::now();
    let mut sent = String::new();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= duration {
            break;
        }
        let line = format!(
            "[slow] {:.1}/{:.1} s\n",
            elapsed.as_secs_f64(),
            duration.as_secs_f64()
        );
        sent.push_str(&line);
        if send_chunk(out, line, cancel).await != StreamEnd::Done {
            return sent;
        }
        let wait = SLOW_TICK.min(duration.saturating_sub(start.elapsed()));
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return sent,
            _ = tokio::time::sleep(wait) => {}
        }
    }
    let done = format!("done after {:.1} s\n", duration.as_secs_f64());
    if send_chunk(out, done.clone(), cancel).await == StreamEnd::Done {
        sent.push_str(&done);
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_bad_slow_arguments_say_what_is_expected() {
        assert_eq!(parse_command("  Status Summary ").unwrap(), Command::Status);
        assert_eq!(parse_command("/status").unwrap(), Command::Status);
        assert_eq!(
            parse_command("/echo  hi there ").unwrap(),
            Command::Echo("hi there".into())
        );
        assert_eq!(
            parse_command("/slow 1.5").unwrap(),
            Command::Slow(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_command("/slow 99999").unwrap(),
            Command::Slow(Duration::from_secs(600)),
            "/slow is bounded at 600 s"
        );
        let err = parse_command("/slow soon").unwrap_err();
        assert!(
            err.contains("'soon'") && err.contains("number of seconds"),
            "{err}"
        );
        assert!(
            parse_command("/slow -3").is_err(),
            "negative durations are refused"
        );
        assert_eq!(
            parse_command("/nope").unwrap(),
            Command::Unknown("/nope".into())
        );
        assert_eq!(parse_command("hello").unwrap(), Command::About);
    }
}
