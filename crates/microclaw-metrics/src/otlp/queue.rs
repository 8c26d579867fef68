//! A bounded queue of encoded batches: full → the OLDEST batch is dropped, so a burst or a
//! dead endpoint never blocks the producer and the newest data is kept.

use std::collections::VecDeque;

use parking_lot::Mutex;
use tokio::sync::Notify;

pub struct BatchQueue {
    items: Mutex<VecDeque<Vec<u8>>>,
    capacity: usize,
    ready: Notify,
}

impl BatchQueue {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        BatchQueue {
            items: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            ready: Notify::new(),
        }
    }

    /// Adds a batch; returns how many old batches were dropped to make room (0 or 1).
    pub fn push(&self, batch: Vec<u8>) -> u64 {
        let mut dropped = 0;
        {
            let mut q = self.items.lock();
            while q.len() >= self.capacity {
                q.pop_front();
                dropped += 1;
            }
            q.push_back(batch);
        }
        self.ready.notify_one();
        dropped
    }

    pub fn try_pop(&self) -> Option<Vec<u8>> {
        self.items.lock().pop_front()
    }

    /// Waits for a batch (cancel-safe: a pending `notified` loses nothing).
    pub async fn pop(&self) -> Vec<u8> {
        loop {
            let notified = self.ready.notified();
            if let Some(b) = self.try_pop() {
                return b;
            }
            notified.await;
        }
    }

    pub fn len(&self) -> usize {
        self.items.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
