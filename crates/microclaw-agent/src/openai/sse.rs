//! Server-sent events as OpenAI-compatible providers stream them: `data: <json>` lines, blank
//! lines between events, `: comment` lines, and a final `data: [DONE]`.

/// One meaningful SSE line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseLine {
    /// The payload of a `data:` line (not yet parsed).
    Data(String),
    /// `data: [DONE]`.
    Done,
}

/// Turns a byte stream into SSE lines. Bytes may split lines (and UTF-8 characters) anywhere.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: Vec<u8>,
}

/// Longest line accepted before the stream is declared malformed.
const MAX_LINE_BYTES: usize = 4 << 20;

impl SseDecoder {
    pub fn new() -> Self {
        SseDecoder::default()
    }

    /// Feeds bytes; returns the complete lines they finish, or an error for a malformed line.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseLine>, String> {
        self.buf.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.buf.drain(..=pos).collect();
            if let Some(line) = parse_line(&raw[..raw.len() - 1])? {
                lines.push(line);
            }
        }
        if self.buf.len() > MAX_LINE_BYTES {
            return Err(format!(
                "malformed SSE stream from provider: a line exceeds {MAX_LINE_BYTES} bytes"
            ));
        }
        Ok(lines)
    }

    /// Whatever is left when the stream ends (a last line without newline).
    pub fn finish(&mut self) -> Result<Option<SseLine>, String> {
        let rest = std::mem::take(&mut self.buf);
        parse_line(&rest)
    }
}

fn parse_line(raw: &[u8]) -> Result<Option<SseLine>, String> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let line = std::str::from_utf8(raw)
        .map_err(|_| "malformed SSE line from provider: not valid UTF-8".to_string())?;
    if line.is_empty() || line.starts_with(':') {
        return Ok(None);
    }
    let (field, value) = match line.split_once(':') {
        Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
        None => (line, ""),
    };
    match field {
        "data" if value.trim() == "[DONE]" => Ok(Some(SseLine::Done)),
        "data" => Ok(Some(SseLine::Data(value.to_string()))),
        // event:, id:, retry: and unknown fields carry nothing we use.
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_pushes_are_joined_and_noise_is_skipped() {
        let mut d = SseDecoder::new();
        assert!(
            d.push(b": keep-alive\n\nda").unwrap().is_empty(),
            "comments and partial lines yield nothing"
        );
        let lines = d
            .push(b"ta: {\"a\":1}\r\n\nevent: x\ndata: [DONE]\n")
            .unwrap();
        assert_eq!(
            lines,
            vec![SseLine::Data("{\"a\":1}".into()), SseLine::Done]
        );
    }

    #[test]
    fn utf8_split_inside_a_character_survives_and_invalid_utf8_is_an_error() {
        let mut d = SseDecoder::new();
        let text = "data: héllo\n".as_bytes();
        assert!(d.push(&text[..8]).unwrap().is_empty());
        assert_eq!(
            d.push(&text[8..]).unwrap(),
            vec![SseLine::Data("héllo".into())]
        );
        let err = SseDecoder::new().push(b"data: \xff\n").unwrap_err();
        assert!(err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn an_unterminated_last_line_is_returned_by_finish() {
        let mut d = SseDecoder::new();
        assert!(d.push(b"data: [DONE]").unwrap().is_empty());
        assert_eq!(d.finish().unwrap(), Some(SseLine::Done));
    }
}
