//! Issue 17's store figures: `sessions_list` search hit pages (message text through FTS5,
//! key/label), list pages and history pages, timed through `microclaw_store::Store` on a
//! database the seeder filled. Each case runs `iterations` times; figures are p50/p99.

use crate::seed::{area_of, keyword_of, SeedPlan};
use crate::stats::{print_summary, summarize};
use anyhow::{anyhow, bail, Result};
use microclaw_core::config::Synchronous;
use microclaw_store::{ListQuery, Store};
use std::time::{Duration, Instant};

/// A slow case stops early (its `_count` says how many samples it got).
const CASE_TIME_CAP: Duration = Duration::from_secs(20);

/// One timed read: a name and a closure returning how many rows it got (checked > 0 where
/// the case must hit).
struct Case<'a> {
    name: &'static str,
    must_hit: bool,
    run: Box<dyn Fn() -> Result<usize> + 'a>,
}

fn list(store: &Store, offset: u64, search: Option<&str>) -> Result<usize> {
    let (rows, total) = store
        .sessions_list(&ListQuery {
            limit: 50,
            offset,
            search: search.map(str::to_string),
        })
        .map_err(|e| anyhow!("sessions_list: {}", e.message))?;
    if total < rows.len() as i64 {
        bail!("total {total} is below the page's {} rows", rows.len());
    }
    Ok(rows.len())
}

fn history(store: &Store, key: &str) -> Result<usize> {
    let page = store
        .messages_page(key, 200, None)
        .map_err(|e| anyhow!("messages_page: {}", e.message))?;
    Ok(page.map(|(m, _)| m.len()).unwrap_or(0))
}

/// Opens the seeded database and prints `search_pages_<case>_p50_us=…` etc. for every case.
pub fn run(plan: &SeedPlan, iterations: usize) -> Result<()> {
    let store = Store::open(&plan.db_path, Synchronous::Normal)
        .map_err(|e| anyhow!("opening {}: {}", plan.db_path.display(), e.message))?;
    let other_key = format!("{}{:07}", plan.key_prefix, plan.sessions / 2);
    // A message in the middle of the spread-out ones: its number is a unique token.
    let unique = format!(
        "{}",
        plan.history_messages + (plan.messages - plan.history_messages) / 2
    );
    let keyword = keyword_of(plan.messages / 3);
    let area = area_of(7);
    let deep = (plan.sessions as u64 / 2).min(50_000);
    let s = &store;
    let cases: Vec<Case<'_>> = vec![
        Case {
            name: "list_first_page",
            must_hit: true,
            run: Box::new(move || list(s, 0, None)),
        },
        Case {
            name: "list_offset_deep",
            must_hit: true,
            run: Box::new(move || list(s, deep, None)),
        },
        Case {
            name: "history_200_big_session",
            must_hit: true,
            run: Box::new(move || history(s, &plan.history_key)),
        },
        Case {
            name: "history_small_session",
            must_hit: true,
            run: Box::new(move || history(s, &other_key)),
        },
        Case {
            name: "search_text_keyword",
            must_hit: true,
            run: Box::new(move || list(s, 0, Some(&keyword))),
        },
        Case {
            name: "search_text_unique_number",
            must_hit: true,
            run: Box::new(move || list(s, 0, Some(&unique))),
        },
        Case {
            name: "search_label_project_777",
            must_hit: true,
            run: Box::new(move || list(s, 0, Some("project 777"))),
        },
        Case {
            name: "search_no_hit",
            must_hit: false,
            run: Box::new(move || list(s, 0, Some("zzqqxx nothing"))),
        },
        Case {
            name: "search_text_broad_1pct",
            must_hit: true,
            run: Box::new(move || list(s, 0, Some(&area))),
        },
    ];
    println!("search_pages_sessions={}", plan.sessions);
    println!("search_pages_messages={}", plan.messages);
    for case in &cases {
        let got = (case.run)()?;
        if case.must_hit && got == 0 {
            bail!("{}: no rows (the seeded data should match)", case.name);
        }
        println!("search_pages_{}_rows={got}", case.name);
        let mut samples = Vec::with_capacity(iterations);
        let deadline = Instant::now() + CASE_TIME_CAP;
        for _ in 0..iterations {
            if Instant::now() > deadline {
                break;
            }
            let t = Instant::now();
            (case.run)()?;
            samples.push(t.elapsed());
        }
        if let Some(sum) = summarize(&mut samples) {
            print_summary(&format!("search_pages_{}", case.name), &sum);
        }
    }
    store.close();
    Ok(())
}
