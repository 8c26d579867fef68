//! Integration tests of microclaw-agent: one binary, one module per area.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod openai_backend;
mod openai_faults;
mod provider;
mod run_deltas;
mod run_lifecycle;
mod run_queue;
mod run_registry;
mod tool_gate;
