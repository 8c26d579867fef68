//! Which devices have an open bridge connection now (`connected` in `device.pair.list` and
//! `GET /api/devices`). A connection holds a [`ConnectedDevice`] for its whole life; dropping
//! it counts the connection out. Counts are kept per engine (several gateways may share a
//! process, as the tests do), keyed by the engine's address: a connection holds its engine
//! (an `Arc`) for as long as it holds the guard, so the address cannot be reused meanwhile.

use microclaw_engine::Engine;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

type Counts = HashMap<(usize, String), usize>;

static COUNTS: LazyLock<Mutex<Counts>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn engine_key(engine: &Engine) -> usize {
    engine as *const Engine as usize
}

fn with_counts<T>(f: impl FnOnce(&mut Counts) -> T) -> T {
    let mut guard = COUNTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut guard)
}

/// One open connection of a device; counted in on creation, out on drop.
#[derive(Debug)]
pub struct ConnectedDevice {
    key: (usize, String),
}

impl ConnectedDevice {
    pub fn new(engine: &Engine, device_id: &str) -> ConnectedDevice {
        let key = (engine_key(engine), device_id.to_string());
        with_counts(|c| *c.entry(key.clone()).or_insert(0) += 1);
        ConnectedDevice { key }
    }
}

impl Clone for ConnectedDevice {
    fn clone(&self) -> Self {
        with_counts(|c| *c.entry(self.key.clone()).or_insert(0) += 1);
        ConnectedDevice {
            key: self.key.clone(),
        }
    }
}

impl Drop for ConnectedDevice {
    fn drop(&mut self) {
        with_counts(|c| {
            if let Some(n) = c.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    c.remove(&self.key);
                }
            }
        });
    }
}

/// True when `device_id` has an open connection to `engine`'s gateway.
pub fn is_connected(engine: &Engine, device_id: &str) -> bool {
    let key = (engine_key(engine), device_id.to_string());
    with_counts(|c| c.contains_key(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_guards() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(microclaw_engine::EngineOptions {
            data_dir: dir.path().to_path_buf(),
            config: Default::default(),
            clock: None,
        })
        .unwrap();
        let a = ConnectedDevice::new(&engine, "dev");
        let b = a.clone();
        assert!(is_connected(&engine, "dev"));
        drop(a);
        assert!(is_connected(&engine, "dev"), "one connection is still open");
        drop(b);
        assert!(!is_connected(&engine, "dev"));
        assert!(!is_connected(&engine, "other"));
    }
}
