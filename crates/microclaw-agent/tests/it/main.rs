//! Integration tests of microclaw-agent: one binary, one module per area.

mod common;
mod openai_backend;
mod openai_faults;
mod provider;
mod run_registry;
