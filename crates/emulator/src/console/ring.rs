//! The recent requests, kept in memory under a cap in bytes (oldest dropped first).
//!
//! Entries hold only what is safe to show: secrets are masked before an entry is built
//! (see `record`), and images are kept as small thumbnails, never whole.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use super::thumbs::Details;

/// Default cap on the ring: a few hundred requests with thumbnails.
pub(crate) const DEFAULT_RING_BYTES: usize = 4 * 1024 * 1024;
/// What an entry costs besides its strings and thumbnails (fields, allocation overhead).
const ENTRY_OVERHEAD: usize = 256;

/// A small preview of an image seen in a request or its reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Thumbnail {
    /// `data:image/jpeg;base64,...`, at most a few kilobytes.
    pub(crate) data_url: String,
    /// The full image's width.
    pub(crate) width: u32,
    /// The full image's height.
    pub(crate) height: u32,
}

/// Whether an entry's thumbnails are still being made, done, or were not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Thumbnails {
    /// Being made in the background.
    Pending,
    /// Made (either may still be absent: no image in the request or the reply).
    Done,
    /// Not made: not an image request, or the thumbnail budget was spent.
    Skipped,
}

/// One finished request, as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Entry {
    /// Position in the ring's history (never reused).
    pub(crate) seq: u64,
    /// The ring's version when this entry last changed.
    pub(crate) version: u64,
    /// When the request arrived, in milliseconds since the Unix epoch.
    pub(crate) time_ms: u64,
    /// `GET`, `POST`, ...
    pub(crate) method: String,
    /// The request path.
    pub(crate) path: String,
    /// The operation's wire name, `token`, or `other`.
    pub(crate) operation: String,
    /// The query string with secret values masked.
    pub(crate) query: String,
    /// How the request authenticated (`access_token`, `bce-auth-v1 ...` with the
    /// signature masked, or `none`).
    pub(crate) auth: String,
    /// Parameters from the body other than the images, values shortened.
    pub(crate) params: Vec<(String, String)>,
    /// The HTTP status.
    pub(crate) status: u16,
    /// `error_code` of the reply (`None` on success).
    pub(crate) error_code: Option<u64>,
    /// `error_msg` (or the OAuth `error_description`) of the reply.
    pub(crate) error_msg: Option<String>,
    /// `log_id` of the reply, as text (it exceeds 2^53).
    pub(crate) log_id: Option<String>,
    /// Time from the request's arrival to its reply's head, in milliseconds.
    pub(crate) latency_ms: f64,
    /// Size of the request body.
    pub(crate) request_bytes: u64,
    /// Size of the reply body.
    pub(crate) response_bytes: u64,
    /// Preview of the input image.
    pub(crate) input: Option<Thumbnail>,
    /// Preview of the output image.
    pub(crate) output: Option<Thumbnail>,
    /// Whether the previews are coming.
    pub(crate) thumbnails: Thumbnails,
}

impl Entry {
    /// What the entry is charged against the ring's cap.
    pub(crate) fn cost(&self) -> usize {
        let thumb = |t: &Option<Thumbnail>| t.as_ref().map_or(0, |t| t.data_url.len() + 16);
        let params: usize = self
            .params
            .iter()
            .map(|(k, v)| k.len() + v.len() + 16)
            .sum();
        ENTRY_OVERHEAD
            + self.method.len()
            + self.path.len()
            + self.operation.len()
            + self.query.len()
            + self.auth.len()
            + params
            + self.error_msg.as_ref().map_or(0, String::len)
            + self.log_id.as_ref().map_or(0, String::len)
            + thumb(&self.input)
            + thumb(&self.output)
    }
}

/// What `GET /__emulator/requests` answers.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RingView {
    /// The ring's current version: pass it back as `since` to get only what changed.
    pub(crate) version: u64,
    /// The cap in bytes.
    pub(crate) cap_bytes: usize,
    /// What the kept entries cost.
    pub(crate) bytes: usize,
    /// Entries dropped to stay under the cap since the start.
    pub(crate) dropped: u64,
    /// Entries changed after `since`, oldest first.
    pub(crate) entries: Vec<Entry>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<Entry>,
    bytes: usize,
    next_seq: u64,
    version: u64,
    dropped: u64,
}

impl Inner {
    /// Drops the oldest entries until `extra` more bytes fit, keeping `keep` if given.
    fn make_room(&mut self, cap: usize, extra: usize, keep: Option<u64>) {
        while self.bytes + extra > cap {
            let Some(front) = self.entries.front() else {
                return;
            };
            if Some(front.seq) == keep {
                return;
            }
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.cost();
                self.dropped += 1;
            }
        }
    }
}

/// The bounded ring of recent requests.
#[derive(Debug)]
pub(crate) struct RequestRing {
    cap: usize,
    inner: Mutex<Inner>,
}

impl RequestRing {
    /// A ring holding at most `cap` bytes of entries.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `entry` (its `seq` and `version` are assigned here) and returns its `seq`.
    /// An entry too large for the cap on its own loses its thumbnails; one still too
    /// large is not kept.
    pub(crate) fn push(&self, mut entry: Entry) -> u64 {
        let mut inner = self.lock();
        inner.version += 1;
        inner.next_seq += 1;
        entry.seq = inner.next_seq;
        entry.version = inner.version;
        if entry.cost() > self.cap {
            entry.input = None;
            entry.output = None;
            entry.thumbnails = Thumbnails::Skipped;
        }
        let cost = entry.cost();
        if cost > self.cap {
            inner.dropped += 1;
            return entry.seq;
        }
        inner.make_room(self.cap, cost, None);
        inner.bytes += cost;
        let seq = entry.seq;
        inner.entries.push_back(entry);
        seq
    }

    /// Gives entry `seq` its parameters and thumbnails (if it is still kept), dropping
    /// older entries to make room; thumbnails that cannot fit are left off.
    pub(crate) fn attach(&self, seq: u64, details: Details) {
        let mut inner = self.lock();
        let Ok(index) = inner.entries.binary_search_by_key(&seq, |e| e.seq) else {
            return;
        };
        let old_cost = inner.entries[index].cost();
        let mut updated = inner.entries[index].clone();
        updated.params = details.params;
        updated.input = details.input;
        updated.output = details.output;
        updated.thumbnails = Thumbnails::Done;
        if updated.cost() > self.cap {
            updated.input = None;
            updated.output = None;
            updated.thumbnails = Thumbnails::Skipped;
        }
        let extra = updated.cost().saturating_sub(old_cost);
        inner.make_room(self.cap, extra, Some(seq));
        if inner.bytes + extra > self.cap {
            updated.input = None;
            updated.output = None;
            updated.thumbnails = Thumbnails::Skipped;
        }
        inner.version += 1;
        updated.version = inner.version;
        // `make_room` may have dropped entries before this one: find it again.
        let Ok(index) = inner.entries.binary_search_by_key(&seq, |e| e.seq) else {
            return;
        };
        inner.bytes = inner.bytes - old_cost + updated.cost();
        inner.entries[index] = updated;
    }

    /// Entries changed after version `since`, at most `limit` of the newest.
    pub(crate) fn view(&self, since: u64, limit: usize) -> RingView {
        let inner = self.lock();
        let changed: Vec<&Entry> = inner.entries.iter().filter(|e| e.version > since).collect();
        let skip = changed.len().saturating_sub(limit);
        RingView {
            version: inner.version,
            cap_bytes: self.cap,
            bytes: inner.bytes,
            dropped: inner.dropped,
            entries: changed.into_iter().skip(skip).cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(operation: &str) -> Entry {
        Entry {
            seq: 0,
            version: 0,
            time_ms: 1,
            method: "POST".into(),
            path: format!("/rest/2.0/image-process/v1/{operation}"),
            operation: operation.into(),
            query: "access_token=<masked>".into(),
            auth: "access_token".into(),
            params: Vec::new(),
            status: 200,
            error_code: None,
            error_msg: None,
            log_id: Some("1".into()),
            latency_ms: 1.0,
            request_bytes: 10,
            response_bytes: 10,
            input: None,
            output: None,
            thumbnails: Thumbnails::Pending,
        }
    }

    fn details(input: Option<Thumbnail>, output: Option<Thumbnail>) -> Details {
        Details {
            params: Vec::new(),
            input,
            output,
        }
    }

    fn thumb(len: usize) -> Thumbnail {
        Thumbnail {
            data_url: "x".repeat(len),
            width: 1,
            height: 1,
        }
    }

    #[test]
    fn the_cap_holds_and_the_oldest_go_first() {
        let one = entry("dehaze").cost();
        let ring = RequestRing::new(one * 10 + one / 2);
        for _ in 0..25 {
            ring.push(entry("dehaze"));
        }
        let view = ring.view(0, usize::MAX);
        assert_eq!(view.entries.len(), 10);
        assert!(view.bytes <= view.cap_bytes);
        assert_eq!(view.dropped, 15);
        let seqs: Vec<u64> = view.entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (16..=25).collect::<Vec<_>>());
        let recount: usize = view.entries.iter().map(Entry::cost).sum();
        assert_eq!(recount, view.bytes);
    }

    #[test]
    fn thumbnails_make_room_and_never_break_the_cap() {
        let one = entry("dehaze").cost();
        let ring = RequestRing::new(one * 4 + 1000);
        let seqs: Vec<u64> = (0..4).map(|_| ring.push(entry("dehaze"))).collect();
        ring.attach(seqs[3], details(Some(thumb(900)), Some(thumb(900))));
        let view = ring.view(0, usize::MAX);
        assert!(
            view.bytes <= view.cap_bytes,
            "{} > {}",
            view.bytes,
            view.cap_bytes
        );
        let last = view.entries.last().unwrap();
        assert_eq!(last.seq, seqs[3]);
        assert_eq!(last.thumbnails, Thumbnails::Done);
        assert!(last.input.is_some());
        assert!(
            view.entries.len() < 4,
            "older entries were dropped for the thumbnails"
        );
        // Thumbnails bigger than the whole ring are left off, the entry kept.
        ring.attach(seqs[3], details(Some(thumb(10 * one)), None));
        let view = ring.view(0, usize::MAX);
        let last = view.entries.last().unwrap();
        assert_eq!(last.thumbnails, Thumbnails::Skipped);
        assert!(last.input.is_none());
        assert!(view.bytes <= view.cap_bytes);
        let recount: usize = view.entries.iter().map(Entry::cost).sum();
        assert_eq!(recount, view.bytes);
    }

    #[test]
    fn since_returns_only_what_changed() {
        let ring = RequestRing::new(DEFAULT_RING_BYTES);
        let a = ring.push(entry("dehaze"));
        let _b = ring.push(entry("colourize"));
        let version = ring.view(0, usize::MAX).version;
        assert!(ring.view(version, usize::MAX).entries.is_empty());
        ring.attach(a, details(Some(thumb(10)), None));
        let changed = ring.view(version, usize::MAX);
        assert_eq!(changed.entries.len(), 1);
        assert_eq!(changed.entries[0].seq, a);
        assert_eq!(ring.view(0, 1).entries.len(), 1, "limit keeps the newest");
    }
}
