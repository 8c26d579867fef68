//! Splitting a finished reply into chunks and streaming them with a small delay, so clients see
//! streaming even from an agent that knows its whole answer at once.

use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Delay between two chunks.
pub const CHUNK_DELAY: Duration = Duration::from_millis(8);
/// Replies are cut into at most about this many chunks (long replies get longer chunks).
const MAX_CHUNKS: usize = 64;
const MIN_CHUNK_CHARS: usize = 24;

/// Cuts `text` into chunks at whitespace boundaries; concatenating them gives `text` back.
pub fn split_chunks(text: &str) -> Vec<String> {
    let total = text.chars().count();
    let target = MIN_CHUNK_CHARS.max(total.div_ceil(MAX_CHUNKS));
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut current_len = 0usize;
    for ch in text.chars() {
        current.push(ch);
        current_len += 1;
        // Cut after whitespace once the chunk is long enough, or hard-cut very long words.
        if (current_len >= target && ch.is_whitespace()) || current_len >= target * 2 {
            chunks.push(std::mem::take(&mut current));
            current_len = 0;
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// How streaming a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    Done,
    Cancelled,
    /// Nobody listens any more (the run ended).
    Closed,
}

/// Sends one chunk unless cancelled first.
pub async fn send_chunk(
    out: &mpsc::Sender<String>,
    chunk: String,
    cancel: &CancellationToken,
) -> StreamEnd {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => StreamEnd::Cancelled,
        r = out.send(chunk) => if r.is_ok() { StreamEnd::Done } else { StreamEnd::Closed },
    }
}

/// Streams `text` as chunks with [`CHUNK_DELAY`] between them; stops at once on cancel.
pub async fn stream_text(
    text: &str,
    out: &mpsc::Sender<String>,
    cancel: &CancellationToken,
) -> StreamEnd {
    for (i, chunk) in split_chunks(text).into_iter().enumerate() {
        if i > 0 {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return StreamEnd::Cancelled,
                _ = tokio::time::sleep(CHUNK_DELAY) => {}
            }
        }
        match send_chunk(out, chunk, cancel).await {
            StreamEnd::Done => {}
            end => return end,
        }
    }
    StreamEnd::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_rejoin_to_the_original_text() {
        let text = "The built-in operator agent answers status questions. ".repeat(5);
        let chunks = split_chunks(&text);
        assert!(
            chunks.len() > 3,
            "a 270-char reply must stream as several chunks, got {}",
            chunks.len()
        );
        assert_eq!(chunks.concat(), text, "no character may be lost or added");
    }

    #[test]
    fn long_replies_are_capped_in_chunk_count_and_long_words_are_cut() {
        let text = "x".repeat(100_000);
        let chunks = split_chunks(&text);
        assert!(
            chunks.len() <= MAX_CHUNKS + 1,
            "got {} chunks",
            chunks.len()
        );
        assert_eq!(chunks.concat(), text);
        assert!(split_chunks("").is_empty(), "an empty reply has no chunks");
    }
}
