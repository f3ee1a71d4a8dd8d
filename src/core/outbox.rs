//! Frames sent while not connected wait here, in order, until the next open.

use alloc::vec::Vec;
use core::mem;

/// A bounded FIFO of frames waiting for a connection.
#[derive(Debug)]
pub struct Outbox<T> {
    queue: Vec<T>,
    limit: usize,
}

/// The outbox is at its limit; the frame was handed back, not queued.
#[derive(Debug, PartialEq, Eq)]
pub struct OutboxFull<T>(pub T);

impl<T> Outbox<T> {
    /// An empty outbox holding at most `limit` frames (0 queues nothing).
    pub fn new(limit: usize) -> Self {
        Outbox {
            queue: Vec::new(),
            limit,
        }
    }

    /// Queues `frame`, or hands it back when the outbox is full.
    pub fn push(&mut self, frame: T) -> Result<(), OutboxFull<T>> {
        if self.queue.len() >= self.limit {
            return Err(OutboxFull(frame));
        }
        self.queue.push(frame);
        Ok(())
    }

    /// Hands the frames to `send` oldest first, until it returns false (the socket
    /// refused one): the frames sent leave the queue, that one and the rest stay, in order.
    pub fn flush(&mut self, mut send: impl FnMut(&T) -> bool) {
        // Taken out and the rest pushed back, rather than `Vec::retain`: its code for this one
        // element type was 24 B gzip more (README "Size").
        let mut sending = true;
        for frame in mem::take(&mut self.queue) {
            sending = sending && send(&frame);
            if !sending {
                self.queue.push(frame);
            }
        }
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

    fn flushed(outbox: &mut Outbox<&'static str>) -> Vec<&'static str> {
        let mut sent = Vec::new();
        outbox.flush(|frame| {
            sent.push(*frame);
            true
        });
        sent
    }

    #[test]
    fn keeps_order_and_refuses_past_the_limit() {
        let mut outbox = Outbox::new(2);
        assert_eq!(outbox.push("a"), Ok(()));
        assert_eq!(outbox.push("b"), Ok(()));
        assert_eq!(outbox.push("c"), Err(OutboxFull("c")));
        assert_eq!(outbox.len(), 2);
        assert_eq!(flushed(&mut outbox), ["a", "b"]);
        assert!(outbox.is_empty());
        assert_eq!(outbox.push("d"), Ok(()));
        assert_eq!(flushed(&mut outbox), ["d"]);
    }

    #[test]
    fn a_refused_send_keeps_that_frame_and_the_rest_in_order() {
        let mut outbox = Outbox::new(4);
        for frame in [1, 2, 3, 4] {
            outbox.push(frame).unwrap();
        }
        let mut tried = Vec::new();
        outbox.flush(|frame| {
            tried.push(*frame);
            *frame < 2
        });
        assert_eq!(tried, [1, 2], "stops at the first refusal");
        assert_eq!(outbox.len(), 3);
        let mut rest = Vec::new();
        outbox.flush(|frame| {
            rest.push(*frame);
            true
        });
        assert_eq!(rest, [2, 3, 4]);
    }

    #[test]
    fn limit_zero_queues_nothing() {
        let mut outbox = Outbox::new(0);
        assert_eq!(outbox.push(1), Err(OutboxFull(1)));
    }
}
