//! Kubernetes resource quantities ("500m", "2Gi", "1.5", "128974848", "1e3") as plain numbers:
//! CPU in cores, memory in bytes, the units the metric contract names.

/// Parses a quantity into its value in base units (cores for CPU, bytes for memory).
/// Returns `None` for anything Kubernetes itself would reject, never panics.
pub fn parse(raw: &str) -> Option<f64> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let multiplier = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "Pi" => 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "Ei" => 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0,
        exp if exp.starts_with(['e', 'E']) => {
            let e: i32 = exp[1..].parse().ok()?;
            10f64.powi(e)
        }
        _ => return None,
    };
    let n: f64 = number.parse().ok()?;
    let v = n * multiplier;
    v.is_finite().then_some(v)
}

/// Renders bytes the way a person reads memory settings (`128Mi`, `2Gi`, `1.5Gi`).
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [(&str, f64); 4] = [
        ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Ki", 1024.0),
    ];
    for (unit, size) in UNITS {
        if bytes >= size {
            return format!("{}{unit}", trim_float(bytes / size));
        }
    }
    trim_float(bytes)
}

/// Renders cores the way resources are usually written (`500m`, `1`, `1.5`).
pub fn format_cores(cores: f64) -> String {
    if cores < 1.0 {
        format!("{}m", trim_float(cores * 1000.0))
    } else {
        trim_float(cores)
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{:.2}", v);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_and_memory_forms() {
        assert_eq!(parse("500m"), Some(0.5));
        assert_eq!(parse("1"), Some(1.0));
        assert_eq!(parse("2Gi"), Some(2147483648.0));
        assert_eq!(parse("128Mi"), Some(134217728.0));
        assert_eq!(parse("1e3"), Some(1000.0));
        assert_eq!(parse("1.5"), Some(1.5));
        assert_eq!(parse("100M"), Some(1e8));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            "abc",
            "12Qi",
            "1e999999",
            "m",
            &"9".repeat(10_000),
            "1e",
            "--5",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_like_manifests() {
        assert_eq!(format_bytes(134217728.0), "128Mi");
        assert_eq!(format_bytes(2147483648.0), "2Gi");
        assert_eq!(format_bytes(1610612736.0), "1.5Gi");
        assert_eq!(format_cores(0.5), "500m");
        assert_eq!(format_cores(1.0), "1");
    }
}
