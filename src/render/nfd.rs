//! `doctor --format nfd`: a Kubernetes Node Feature Discovery feature file for
//! `/etc/kubernetes/node-feature-discovery/features.d/`.
//!
//! NFD's `local` source reads each non-hidden file there, one `<namespace>/<name>[=<value>]` per line,
//! `#` comments, and a `# +expiry-time=<RFC3339>` directive that applies to the lines after it; files
//! over 65536 bytes are ignored (source/local/local.go). nfd-master then drops every label whose key is
//! not a Kubernetes qualified name or whose value is not a valid label value, and every label in
//! `kubernetes.io` or its sub-namespaces other than `feature.node.kubernetes.io`
//! (pkg/apis/nfd/validate/validate.go). The labels here follow those rules by construction.
//!
//! What NVIDIA GPU Feature Discovery already labels (`nvidia.com/gpu.product`, `gpu.compute.major`,
//! `gpu.memory`, `gpu.count`, `cuda.driver-version.*`, `cuda.runtime-version.*`) is not repeated: these
//! labels say what runs on the node, not what the node is.

use crate::facts::Facts;
use crate::matrix::{Day, Status, LABEL_MAX, RESERVED_LABELS};
use crate::report::Report;

/// NFD ignores a larger feature file (`MaxFeatureFileSize` in source/local/local.go).
pub const NFD_MAX_FILE_BYTES: usize = 65536;

/// The labels of a report: `(name without prefix, value)`, in file order.
pub fn nfd_labels(report: &Report, facts: &Facts) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = Vec::new();
    for row in &report.rows {
        if let Some(name) = label_name(&row.id) {
            labels.push((name, status_value(row.status).to_string()));
        }
    }
    debug_assert!(RESERVED_LABELS.contains(&"problems"));
    labels.push(("problems".into(), report.summary.problems.len().to_string()));
    let bench = facts.benchmarks.as_ref();
    if let Some(verified) = bench.and_then(|b| b.fp4_native_verified) {
        labels.push(("fp4-verified".into(), verified.to_string()));
    }
    if let Some(v) = fp4_native(facts) {
        labels.push(("fp4-native".into(), v.to_string()));
    }
    if let Some(gbs) = bench.and_then(|b| b.gpu_bandwidth_gbs) {
        labels.push(("gpu-bandwidth-gbs".into(), format!("{gbs:.0}")));
    }
    if let Some(gbs) = bench.and_then(|b| b.cpu_bandwidth_gbs) {
        labels.push(("cpu-bandwidth-gbs".into(), format!("{gbs:.0}")));
    }
    labels.push(("version".into(), env!("CARGO_PKG_VERSION").into()));
    labels
}

/// Native FP4 of the machine's GPU, as `facts::arch::fp4_native` decides it (no GPU: false), `None` when
/// the facts cannot say. NFD and Prometheus both read it here.
pub(crate) fn fp4_native(facts: &Facts) -> Option<bool> {
    match (&facts.gpus, facts.primary_gpu()) {
        (None, _) => None,
        (Some(_), None) => Some(false),
        (Some(_), Some(gpu)) => crate::facts::arch::fp4_native(gpu),
    }
}

/// The whole feature file: a comment, the expiry directive, then one label per line.
pub fn nfd_file(report: &Report, facts: &Facts, prefix: &str, expires: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# mlcompat {} doctor: one label per software row (ok, warn, fail); see `mlcompat list software`.\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(
        "# Written for Node Feature Discovery's features.d; write a dotfile, then rename it.\n",
    );
    out.push_str(&format!("# +expiry-time={expires}\n"));
    for (name, value) in nfd_labels(report, facts) {
        out.push_str(&format!("{prefix}/{name}={value}\n"));
    }
    out
}

fn status_value(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Warn => "warn",
        Status::Fail => "fail",
    }
}

/// A software id as a label name: at most 63 characters from `[A-Za-z0-9_.-]`, alphanumeric at both
/// ends. Matrix ids are kebab-case already; a `--matrix` of someone else's may not be.
fn label_name(id: &str) -> Option<String> {
    let mapped: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cut: String = mapped.chars().take(LABEL_MAX).collect();
    let name = cut.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    (!name.is_empty()).then(|| name.to_string())
}

/// Checks `--nfd-prefix`: a DNS subdomain (RFC 1123, as Kubernetes requires of a label prefix) that NFD
/// accepts: nfd-master denies `kubernetes.io` and its sub-namespaces except `feature.node.kubernetes.io`,
/// `profile.node.kubernetes.io` and theirs (https://kubernetes-sigs.github.io/node-feature-discovery —
/// nfd-master configuration, `denyLabelNs`: "By default, nfd-master allows creating labels in all
/// namespaces, excluding `kubernetes.io` and its sub-namespaces (`*.kubernetes.io`), except
/// `feature.node.kubernetes.io`, `profile.node.kubernetes.io` and their sub-namespaces").
pub fn check_nfd_prefix(prefix: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("--nfd-prefix `{prefix}`: {why}"));
    if prefix.is_empty() || prefix.len() > 253 {
        return bad("must be 1 to 253 characters");
    }
    for part in prefix.split('.') {
        let ok = !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !part.starts_with('-')
            && !part.ends_with('-');
        if !ok {
            return bad(
                "must be a DNS subdomain: lowercase letters, digits and `-`, in dot-separated parts that start and end with a letter or digit (e.g. example.com)",
            );
        }
    }
    let under = |ns: &str| prefix == ns || prefix.ends_with(&format!(".{ns}"));
    if under("feature.node.kubernetes.io") || under("profile.node.kubernetes.io") {
        return Ok(());
    }
    if under("kubernetes.io") {
        return bad("nfd-master drops labels in kubernetes.io and its sub-namespaces other than feature.node.kubernetes.io and profile.node.kubernetes.io; use one of those or a domain you control");
    }
    Ok(())
}

/// `2026-11-28T22:38:00Z` for a time in seconds since the Unix epoch (UTC, RFC 3339).
pub fn rfc3339_utc(unix_seconds: u64) -> String {
    let day = Day::from_days_since_epoch(i64::try_from(unix_seconds / 86_400).unwrap_or(i64::MAX));
    let rest = unix_seconds % 86_400;
    format!(
        "{day}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_795_132_800 + 3_723), "2026-11-20T01:02:03Z");
        assert_eq!(rfc3339_utc(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn names_are_label_names() {
        assert_eq!(
            label_name("flash-attention").as_deref(),
            Some("flash-attention")
        );
        assert_eq!(label_name("-a b/c_").as_deref(), Some("a-b-c"));
        assert_eq!(label_name("x".repeat(80).as_str()).unwrap().len(), 63);
        assert_eq!(label_name("--"), None);
    }

    #[test]
    fn prefixes_follow_nfd() {
        for good in [
            "mlcompat.io",
            "example.com",
            "gpu.feature.node.kubernetes.io",
            "feature.node.kubernetes.io",
            "profile.node.kubernetes.io",
            "team.profile.node.kubernetes.io",
            "k8s.io",
            "a1",
        ] {
            assert!(check_nfd_prefix(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "kubernetes.io",
            "node.kubernetes.io",
            "Example.com",
            "ex_ample.com",
            "-a.com",
            "a..b",
            "a/b",
        ] {
            assert!(check_nfd_prefix(bad).is_err(), "{bad}");
        }
    }
}
