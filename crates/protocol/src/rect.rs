//! A rectangle in an image, as `inpainting` takes it.

use std::fmt;

/// A rectangle of `inpainting`, in pixels from the image's top-left corner. Checked
/// against the image's size (read from its header) before a request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    /// Distance from the left edge.
    pub left: u32,
    /// Distance from the top edge.
    pub top: u32,
    /// Width (at least 1).
    pub width: u32,
    /// Height (at least 1).
    pub height: u32,
}

impl Rect {
    /// A rectangle at `(left, top)` of `width × height`.
    pub const fn new(left: u32, top: u32, width: u32, height: u32) -> Self {
        Self {
            left,
            top,
            width,
            height,
        }
    }

    /// Whether the rectangle is non-empty and lies inside a `width × height` image.
    pub const fn fits_in(&self, width: u32, height: u32) -> bool {
        self.width > 0
            && self.height > 0
            && (self.left as u64 + self.width as u64) <= width as u64
            && (self.top as u64 + self.height as u64) <= height as u64
    }
}

impl fmt::Display for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "left {}, top {}, {}×{}",
            self.left, self.top, self.width, self.height
        )
    }
}
