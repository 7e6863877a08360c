//! A golden full `/metrics` scrape of both bundled examples in both formats, through the real
//! `backupscope serve`: the real families, not a synthetic fixture. Every sample is also checked
//! against the metric contract (declared family, exactly its declared labels, bounded values
//! among the declared ones), and the 0.0.4 text passes `promtool check metrics`.
//! Regenerate deliberately with `UPDATE_GOLDEN=1 cargo test --test metrics_golden`.

mod support;

use backupscope::metrics::contract::Describe;
use backupscope::metrics::families;
use backupscope::metrics::sink::MetricType;
use support::serve::{Serve, example};

const NOW: &str = "2026-11-25T09:00:00Z";
const OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0";

/// The one value that differs between runs: how long the previous scrape took.
fn normalised(body: &str) -> String {
    body.lines()
        .map(|l| {
            if l.starts_with("backupscope_last_scrape_duration_seconds ") {
                "backupscope_last_scrape_duration_seconds 0".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Splits `name{a="x",b="y"} 1` into the name and its label pairs (values unescaped).
fn parse_sample(line: &str) -> (String, Vec<(String, String)>) {
    let (series, _value) = line.rsplit_once(' ').expect("sample has a value");
    let Some((name, rest)) = series.split_once('{') else {
        return (series.to_string(), Vec::new());
    };
    let body = rest.strip_suffix('}').expect("labels end with }");
    let mut labels = Vec::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "{line}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("dangling escape in {line}"),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.push((key.trim_start_matches(',').to_string(), value));
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    (name.to_string(), labels)
}

fn declared(sample_name: &str) -> &'static dyn Describe {
    *families::ALL
        .iter()
        .find(|f| {
            let fam = f.family();
            sample_name == fam.name
                // OpenMetrics counters carry `_created` beside `_total`.
                || (fam.kind == MetricType::Counter
                    && sample_name == format!("{}_created", fam.base_name()))
        })
        .unwrap_or_else(|| panic!("{sample_name} is not a declared family"))
}

fn check_contract(body: &str) -> usize {
    let mut samples = 0;
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, labels) = parse_sample(line);
        let family = declared(&name);
        let names: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
        let want: Vec<&str> = family.label_set().iter().map(|l| l.name).collect();
        assert_eq!(names, want, "labels of {line}");
        for ((_, value), label) in labels.iter().zip(family.label_set()) {
            assert!(
                label.allows(value),
                "{line}: {value:?} not declared for {}",
                label.name
            );
        }
        samples += 1;
    }
    samples
}

async fn scrape(example_name: &str, accept: Option<&str>) -> String {
    let path = example(example_name);
    let serve = Serve::start(&["--snapshot", path.to_str().unwrap(), "--now", NOW]);
    let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
    let response = support::http::get(&serve.url("/metrics"), &headers).await;
    response.text()
}

#[tokio::test]
async fn full_scrape_of_both_examples_in_both_formats() {
    for example_name in ["ack-cluster", "velero-cluster"] {
        let short = example_name.trim_end_matches("-cluster");
        let text = scrape(example_name, None).await;
        assert!(
            check_contract(&text) > 100,
            "{example_name}: too few samples"
        );
        support::promtool::check_metrics(text.as_bytes())
            .unwrap_or_else(|e| panic!("promtool on {example_name}: {e}"));
        support::golden::assert_matches(
            &format!("tests/golden/metrics-{short}.prom"),
            &normalised(&text),
        );
        let om = scrape(example_name, Some(OPENMETRICS)).await;
        assert!(
            om.ends_with("# EOF\n"),
            "{example_name}: OpenMetrics ends with # EOF"
        );
        check_contract(&om);
        support::golden::assert_matches(
            &format!("tests/golden/metrics-{short}.om.txt"),
            &normalised(&om),
        );
    }
}
