//! Frames sent while not connected wait here, in order, until the next open.

use alloc::collections::VecDeque;

/// A bounded FIFO of frames waiting for a connection.
#[derive(Debug)]
pub struct Outbox<T> {
    queue: VecDeque<T>,
    limit: usize,
}

/// The outbox is at its limit; the frame was handed back, not queued.
#[derive(Debug, PartialEq, Eq)]
pub struct OutboxFull<T>(pub T);

impl<T> Outbox<T> {
    /// An empty outbox holding at most `limit` frames (0 queues nothing).
    pub fn new(limit: usize) -> Self {
        Outbox {
            queue: VecDeque::new(),
            limit,
        }
    }

    /// Queues `frame`, or hands it back when the outbox is full.
    pub fn push(&mut self, frame: T) -> Result<(), OutboxFull<T>> {
        if self.queue.len() >= self.limit {
            return Err(OutboxFull(frame));
        }
        self.queue.push_back(frame);
        Ok(())
    }

    /// The oldest queued frame, removed from the queue.
    pub fn pop(&mut self) -> Option<T> {
        self.queue.pop_front()
    }

    /// Puts a frame back at the front, when sending it failed after `pop`.
    pub fn unpop(&mut self, frame: T) {
        self.queue.push_front(frame);
    }

    /// How many frames are waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_refuses_past_the_limit() {
        let mut outbox = Outbox::new(2);
        assert_eq!(outbox.push("a"), Ok(()));
        assert_eq!(outbox.push("b"), Ok(()));
        assert_eq!(outbox.push("c"), Err(OutboxFull("c")));
        assert_eq!(outbox.len(), 2);
        assert_eq!(outbox.pop(), Some("a"));
        assert_eq!(outbox.push("d"), Ok(()));
        assert_eq!(outbox.pop(), Some("b"));
        assert_eq!(outbox.pop(), Some("d"));
        assert_eq!(outbox.pop(), None);
        assert!(outbox.is_empty());
    }

    #[test]
    fn a_failed_send_goes_back_to_the_front() {
        let mut outbox = Outbox::new(3);
        outbox.push(1).unwrap();
        outbox.push(2).unwrap();
        let first = outbox.pop().unwrap();
        outbox.unpop(first);
        assert_eq!(outbox.pop(), Some(1));
        assert_eq!(outbox.pop(), Some(2));
    }

    #[test]
    fn limit_zero_queues_nothing() {
        let mut outbox = Outbox::new(0);
        assert_eq!(outbox.push(1), Err(OutboxFull(1)));
    }
}
