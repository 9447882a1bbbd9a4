//! Small dense linear algebra for the trainers of the learned filter banks.

/// Solves `A x = b` for symmetric positive definite `A` (overwritten); `None` when a
/// pivot is at most `pivot_floor` (the system is not positive definite enough).
/// Shared by the trainers of the learned filter banks.
pub fn cholesky_solve(a: &mut [f64], b: &mut [f64], pivot_floor: f64) -> Option<Vec<f64>> {
    let n = b.len();
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= pivot_floor {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    Some(b.to_vec())
}
