//! Agents and runs: the agent trait, the built-in operator agent, the OpenAI-compatible agent, the run registry.
