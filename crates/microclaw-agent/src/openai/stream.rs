//! Reading one streamed reply: content deltas go out as chunks as they arrive; tool-call
//! fragments and usage are collected. A stream that stops before `[DONE]` (and before any
//! `finish_reason`) is an error, as is a silent provider past the idle timeout.

use super::sse::{SseDecoder, SseLine};
use super::wire::{parse_chunk, ToolCall, ToolCallAccumulator, Usage};
use crate::chunk_stream::{send_chunk, StreamEnd};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// One model reply.
#[derive(Debug, Default)]
pub struct Turn {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Option<Usage>,
}

#[derive(Default)]
struct Reader {
    turn: Turn,
    tools: ToolCallAccumulator,
    finished: bool,
    done: bool,
}

impl Reader {
    /// Applies one line; returns the content chunk to forward, if any.
    fn line(&mut self, line: SseLine) -> Result<Option<String>, String> {
        let data = match line {
            SseLine::Done => {
                self.done = true;
                return Ok(None);
            }
            SseLine::Data(d) => d,
        };
        let chunk = parse_chunk(&data)?;
        if let Some(u) = chunk.usage {
            self.turn.usage = Some(u);
        }
        let mut text = String::new();
        for choice in chunk.choices {
            if let Some(c) = choice.delta.content {
                text.push_str(&c);
            }
            for d in &choice.delta.tool_calls {
                self.tools.push(d)?;
            }
            if choice.finish_reason.is_some() {
                self.finished = true;
            }
        }
        self.turn.content.push_str(&text);
        Ok((!text.is_empty()).then_some(text))
    }
}

/// Reads the event stream of `resp` to its end, streaming content to `out`.
pub async fn read_turn(
    mut resp: reqwest::Response,
    out: &mpsc::Sender<String>,
    cancel: &CancellationToken,
    idle_timeout: Duration,
) -> Result<Turn, String> {
    let mut decoder = SseDecoder::new();
    let mut reader = Reader::default();
    while !reader.done {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err("cancelled".into()),
            n = tokio::time::timeout(idle_timeout, resp.chunk()) => n,
        };
        let ended = matches!(next, Ok(Ok(None)));
        let lines = match next {
            Err(_) => {
                return Err(format!(
                    "provider stream stalled: no data for {} ms mid-reply",
                    idle_timeout.as_millis()
                ))
            }
            Ok(Err(e)) => return Err(format!("provider stream was cut mid-reply: {e}")),
            Ok(Ok(None)) => decoder.finish()?.into_iter().collect::<Vec<_>>(),
            Ok(Ok(Some(bytes))) => decoder.push(&bytes)?,
        };
        for line in lines {
            if let Some(text) = reader.line(line)? {
                if send_chunk(out, text, cancel).await != StreamEnd::Done {
                    return Err("cancelled".into());
                }
            }
        }
        if ended && !reader.done {
            if reader.finished {
                break;
            }
            return Err("provider stream ended before the reply was complete (no [DONE] and no finish_reason): \
                 the connection was cut mid-reply"
                .into());
        }
    }
    reader.turn.tool_calls = reader.tools.finish();
    Ok(reader.turn)
}
