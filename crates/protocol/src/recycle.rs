//! Taking a multi-megabyte buffer back once every handle on it is gone, for the next
//! request body or reply. A fresh buffer of that size costs more in page faults (the
//! allocator hands such sizes back to the kernel when they are freed) than encoding or
//! copying its bytes.

use std::sync::{Mutex, PoisonError};

use bytes::Bytes;

/// Largest buffer kept for reuse: a slot holds its last buffer until the next one
/// replaces it, so a rare huge body is not kept alive.
pub const MAX_RECYCLED: usize = 16 * 1024 * 1024;

/// One slot for the last buffer handed out as [`Bytes`]. [`Recycler::take`] returns it,
/// emptied, once nobody else holds it (the transport sent it, the reply was decoded);
/// otherwise a new buffer. Shared by clones of a client; concurrent calls that find the
/// slot empty or still in use simply allocate.
#[derive(Debug, Default)]
pub struct Recycler {
    last: Mutex<Option<Bytes>>,
}

impl Recycler {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty buffer with room for at least `capacity` bytes: the last one kept, if
    /// every other handle on it has been dropped, else a new one.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let last = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let mut buffer = match last.map(Bytes::try_into_mut) {
            Some(Ok(mut unique)) => {
                // Emptied first, so turning it back into a `Vec` copies nothing.
                unique.clear();
                Vec::from(unique)
            }
            Some(Err(_)) | None => Vec::new(),
        };
        buffer.reserve(capacity);
        buffer
    }

    /// Keeps a handle on `bytes` so that its buffer can be taken back once the other
    /// handles are dropped. Buffers over [`MAX_RECYCLED`] are not kept.
    pub fn keep(&self, bytes: &Bytes) {
        if bytes.len() <= MAX_RECYCLED {
            *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(bytes.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_only_once_nobody_holds_it() {
        let slot = Recycler::new();
        let mut first = slot.take(1000);
        first.extend_from_slice(&[7; 1000]);
        let address = first.as_ptr();
        let sent = Bytes::from(first);
        slot.keep(&sent);
        // Still held by the transport: a new buffer.
        let second = slot.take(1000);
        assert_ne!(second.as_ptr(), address);
        slot.keep(&sent);
        drop(sent);
        let third = slot.take(500);
        assert_eq!((third.as_ptr(), third.len()), (address, 0));
        assert!(third.capacity() >= 1000);
        // The slot is empty once taken.
        assert!(slot.take(10).capacity() >= 10);
    }

    #[test]
    fn a_taken_buffer_grows_to_the_room_asked_for() {
        let slot = Recycler::new();
        let small = Bytes::from(vec![1u8; 10]);
        slot.keep(&small);
        drop(small);
        assert!(slot.take(100_000).capacity() >= 100_000);
    }
}
