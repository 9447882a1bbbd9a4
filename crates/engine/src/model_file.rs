//! The file format shared by the learned models: magic bytes, the layout as u32s, the
//! weights as f32 (little endian), and an FNV-1a checksum of everything before it.
//! Loading checks all four, so a corrupt or stale file is a clear error, never a panic.

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Serialises a model.
pub(crate) fn write(
    magic: [u8; 8],
    layout: &[usize],
    values: impl IntoIterator<Item = f32>,
) -> Vec<u8> {
    let mut out = magic.to_vec();
    for &v in layout {
        out.extend_from_slice(&(v as u32).to_le_bytes());
    }
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let sum = fnv1a(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Parses a model of `what`, returning its `count` values after checking the size, magic,
/// checksum, layout and that every value is finite.
pub(crate) fn read(
    bytes: &[u8],
    what: &str,
    magic: [u8; 8],
    layout: &[usize],
    count: usize,
) -> Result<Vec<f32>, String> {
    let expected = 8 + 4 * layout.len() + 4 * count + 8;
    if bytes.len() != expected {
        return Err(format!(
            "{what} model is {} bytes, expected {expected}; run `cargo xtask train-{what}`",
            bytes.len()
        ));
    }
    if bytes[..8] != magic {
        return Err(format!("{what} model has the wrong magic bytes"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let stored = u64::from_le_bytes(sum.try_into().map_err(|_| "truncated checksum")?);
    if fnv1a(body) != stored {
        return Err(format!("{what} model checksum mismatch (corrupt file)"));
    }
    let words = |range: &[u8]| -> Vec<[u8; 4]> {
        range
            .chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect()
    };
    let header_end = 8 + 4 * layout.len();
    let stored_layout: Vec<usize> = words(&body[8..header_end])
        .into_iter()
        .map(|w| u32::from_le_bytes(w) as usize)
        .collect();
    if stored_layout != layout {
        return Err(format!(
            "{what} model layout {stored_layout:?} does not match this engine ({layout:?})"
        ));
    }
    let values: Vec<f32> = words(&body[header_end..])
        .into_iter()
        .map(f32::from_le_bytes)
        .collect();
    if values.iter().any(|v| !v.is_finite()) {
        return Err(format!("{what} model holds non-finite values"));
    }
    Ok(values)
}
