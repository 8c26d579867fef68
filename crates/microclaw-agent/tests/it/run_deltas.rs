//! Delta cost: a 1 MiB reply streamed as 4,096 provider deltas costs O(n): a bounded number of
//! coalesced events, each carrying only its chunk (the cumulative text only while ≤ 64 KiB).

use crate::common::*;
use crate::openai_backend::{backend, openai_fixture};
use crate::provider::{self, delta, finish, sse, Ending};
use microclaw_agent::{ChatState, StartRun, CUMULATIVE_TEXT_MAX, DELTA_INTERVAL, MAX_DELTA_BYTES};
use std::time::{Duration, Instant};

const CHUNK: usize = 256;
const CHUNKS: usize = 4096;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_mebibyte_reply_costs_a_bounded_number_of_chunk_sized_events() {
    let p = provider::spawn(provider::handler(|_, _| {
        let mut events: Vec<String> = (0..CHUNKS)
            .map(|i| delta(&format!("{:0>width$}", i, width = CHUNK)))
            .collect();
        events.push(finish());
        sse(events, Duration::ZERO, Ending::Done, None)
    }))
    .await;
    let f = openai_fixture(backend(&p, None), None);
    let mut rx = f.registry.subscribe();
    let t0 = Instant::now();
    let run_id = f
        .registry
        .start(StartRun {
            session_key: "big".into(),
            message: "write a lot".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .run_id
        .clone();
    let events = collect_run(&mut rx, &run_id).await;
    let elapsed = t0.elapsed();
    assert_well_ordered(&events);
    let total = CHUNK * CHUNKS;
    let last = events.last().unwrap();
    assert_eq!((last.state, last.text_len), (ChatState::Final, total));
    let deltas: Vec<_> = events
        .iter()
        .filter(|e| e.state == ChatState::Delta)
        .collect();
    let delta_bytes: usize = deltas.iter().map(|e| e.delta.as_ref().unwrap().len()).sum();
    let cumulative_bytes: usize = deltas
        .iter()
        .filter_map(|e| e.text.as_ref())
        .map(|t| t.len())
        .sum();
    assert_eq!(delta_bytes, total, "each delta carries only its own chunk");
    let bound = elapsed.as_millis() as usize / DELTA_INTERVAL.as_millis() as usize
        + total / MAX_DELTA_BYTES
        + 2;
    assert!(
        deltas.len() <= bound,
        "{} deltas for {CHUNKS} chunks in {elapsed:?} (bound {bound})",
        deltas.len()
    );
    assert!(deltas
        .iter()
        .all(|e| e.delta.as_ref().unwrap().len() <= MAX_DELTA_BYTES + CHUNK));
    assert!(
        deltas
            .iter()
            .all(|e| e.text.is_none() || e.text_len <= CUMULATIVE_TEXT_MAX),
        "the cumulative text rides along only while the reply is at most 64 KiB"
    );
    // Before: one event per chunk, each with the whole reply so far.
    let before_events = CHUNKS + 1;
    let before_bytes: usize = (1..=CHUNKS).map(|i| CHUNK + i * CHUNK).sum::<usize>() + total;
    let after_bytes = delta_bytes + cumulative_bytes + total;
    println!(
        "1 MiB reply as {CHUNKS} chunks: before {before_events} events / {before_bytes} bytes; \
         after {} events / {after_bytes} bytes ({} ms)",
        events.len(),
        elapsed.as_millis()
    );
    assert!(
        after_bytes < 3 * total,
        "O(n): {after_bytes} bytes for {total}"
    );
    let stored = messages(&f.store, "big");
    assert_eq!(stored[1].1.len(), total, "the reply is stored whole");
}
