//! `sessions_list` search: a term matches a session's key or label (case-insensitive
//! substring, as before) OR the text of any of its messages, through the FTS5 index
//! `message_fts` (migration 0009, kept in step by triggers).
//!
//! User input never reaches FTS5 as syntax: every whitespace-separated word becomes a quoted
//! phrase (`"word"`, with `*` for a prefix match when its last token has 3 or more
//! characters), and the phrases are ANDed, so `NEAR`, `*`, `(`, `"` or `-` are plain text.
//! Words with no letter or digit (`%`, `()`) are dropped from the text query; they still
//! count for the key/label part.

use crate::sessions::{session_from_row, SessionRow, SESSION_COLUMNS};
use crate::sql_error::SqlContext;
use microclaw_core::Result;
use rusqlite::{params, Connection};

/// A word whose last token has at least this many characters matches as a prefix (`deploy`
/// finds `deployment`); shorter ones match whole tokens only (a 1-letter prefix would touch
/// most of the index).
pub const PREFIX_MIN_CHARS: usize = 3;
/// Tokens of context around the match in `search_snippet`.
const SNIPPET_TOKENS: i32 = 12;

/// The FTS5 MATCH expression for a user's term, or None when it holds no searchable word.
pub fn fts_query(term: &str) -> Option<String> {
    let phrases: Vec<String> = term
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| {
            // The phrase's last token is the prefix: count its characters, not the word's.
            let last_token = w
                .split(|c: char| !c.is_alphanumeric())
                .rfind(|t| !t.is_empty())
                .map_or(0, |t| t.chars().count());
            let star = if last_token >= PREFIX_MIN_CHARS {
                "*"
            } else {
                ""
            };
            format!("\"{}\"{star}", w.replace('"', "\"\""))
        })
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" "))
}

/// `%`, `_` and `\` in a search term match literally (LIKE … ESCAPE '\').
pub(crate) fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for ch in term.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// Sessions whose key/label contain the term or whose messages match it: `hit(id, mid)`, with
/// `mid` the newest matching message (NULL for a key/label-only hit). The FTS side is driven
/// from the index (CROSS JOIN keeps that order), so a rare word costs its hits, not a scan.
const HITS_CTE: &str = "WITH text_hit(id, mid) AS ( \
       SELECT m.session_id, max(m.id) FROM message_fts CROSS JOIN messages m \
       ON m.id = message_fts.rowid WHERE message_fts MATCH ?2 GROUP BY m.session_id), \
     name_hit(id) AS ( \
       SELECT id FROM sessions WHERE key LIKE ?1 ESCAPE '\\' OR label LIKE ?1 ESCAPE '\\'), \
     hit(id, mid) AS ( \
       SELECT id, max(mid) FROM (SELECT id, mid FROM text_hit \
                                 UNION ALL SELECT id, NULL FROM name_hit) GROUP BY id)";

/// Key/label only (the term has no searchable word).
const NAME_ONLY_CTE: &str = "WITH hit(id, mid) AS ( \
       SELECT id, NULL FROM sessions WHERE key LIKE ?1 ESCAPE '\\' OR label LIKE ?1 ESCAPE '\\')";

/// One page of matching sessions (newest `updated_at` first, ties newest id first) and the
/// total number of matches, read on `c` inside the caller's read transaction.
pub(crate) fn search_page(
    c: &Connection,
    term: &str,
    limit: u32,
    offset: i64,
) -> Result<(Vec<SessionRow>, i64)> {
    let pattern = like_pattern(term);
    let fts = fts_query(term);
    let cte = if fts.is_some() {
        HITS_CTE
    } else {
        NAME_ONLY_CTE
    };
    // ?2 is unused by the key/label-only form (SQLite still counts it: ?4 is the highest).
    let fts_param = fts.clone().unwrap_or_default();
    let page_sql = format!(
        "{cte} SELECT s.id, hit.mid, count(*) OVER () FROM hit CROSS JOIN sessions s \
         ON s.id = hit.id ORDER BY s.updated_at DESC, s.id DESC LIMIT ?3 OFFSET ?4"
    );
    let hits = c
        .prepare_cached(&page_sql)
        .ctx("preparing the session search")?
        .query_map(params![pattern, fts_param, limit, offset], hit_of)
        .ctx("searching sessions")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .ctx("reading session search hits")?;
    let total = match hits.first() {
        Some(h) => h.2,
        // An empty first page: nothing matches.
        None if offset == 0 => 0,
        // Past the last match: count separately.
        None => {
            let sql = format!("{cte} SELECT count(*) FROM hit");
            let mut stmt = c.prepare_cached(&sql).ctx("preparing the search count")?;
            if fts.is_some() {
                stmt.query_row(params![pattern, fts_param], |r| r.get(0))
            } else {
                stmt.query_row(params![pattern], |r| r.get(0))
            }
            .ctx("counting matching sessions")?
        }
    };
    let mut rows = Vec::with_capacity(hits.len());
    for (id, mid, _) in hits {
        let mut row = c
            .prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"
            ))
            .ctx("preparing the session fetch")?
            .query_row([id], session_from_row)
            .ctx("reading a matching session")?;
        if let (Some(mid), Some(q)) = (mid, fts.as_deref()) {
            row.search_snippet = snippet(c, q, mid)?;
        }
        rows.push(row);
    }
    Ok((rows, total))
}

fn hit_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Option<i64>, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

/// Plain text around the match in message `mid` (no markup: the UI escapes and highlights).
fn snippet(c: &Connection, fts: &str, mid: i64) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    c.prepare_cached(
        "SELECT snippet(message_fts, 0, '', '', '…', ?3) FROM message_fts \
         WHERE message_fts MATCH ?1 AND rowid = ?2",
    )
    .ctx("preparing the search snippet")?
    .query_row(params![fts, mid, SNIPPET_TOKENS], |r| r.get(0))
    .optional()
    .ctx("reading the search snippet")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_quoted_phrases_and_syntax_is_plain_text() {
        assert_eq!(fts_query("deploy"), Some("\"deploy\"*".into()));
        assert_eq!(fts_query("  go  ci "), Some("\"go\" \"ci\"".into()));
        assert_eq!(
            fts_query("a\"bcd NEAR(xyz"),
            Some("\"a\"\"bcd\"* \"NEAR(xyz\"*".into())
        );
        assert_eq!(fts_query("% () * -"), None);
        assert_eq!(fts_query("%_o door)"), Some("\"%_o\" \"door)\"*".into()));
        assert_eq!(fts_query("   "), None);
        assert_eq!(like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
