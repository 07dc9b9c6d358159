//! Renderings of the two machines everyone compares, pinned with insta. A change to a verdict, a source
//! or a layout shows up here as a reviewed diff.

use mlcompat::eval::evaluate;
use mlcompat::matrix::{embedded, Matrix};
use mlcompat::render::{self, Grid, Style};
use mlcompat::report::Report;

fn matrix() -> Matrix {
    embedded().expect("embedded matrix is valid")
}

fn report(m: &Matrix, profile: &str) -> Report {
    evaluate(m, &m.profile(profile).expect("profile exists").facts)
}

fn text(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    f(&mut out).expect("writes to memory");
    String::from_utf8(out).expect("UTF-8")
}

const PLAIN: Style = Style {
    color: false,
    ascii: false,
    width: 100,
    width_known: true,
};

/// An 80-column terminal.
const NARROW: Style = Style {
    color: false,
    ascii: false,
    width: 80,
    width_known: true,
};

#[test]
fn doctor_dgx_spark() {
    let m = matrix();
    let r = report(&m, "dgx-spark");
    insta::assert_snapshot!(
        "doctor_dgx_spark_table",
        text(|o| render::doctor_text(&r, PLAIN, true, o))
    );
    // The default: short, at 80 columns.
    let short = text(|o| render::doctor_text(&r, NARROW, false, o));
    for line in short.lines() {
        assert!(render::display_width(line) <= 80, "over 80 columns: {line}");
    }
    insta::assert_snapshot!("doctor_dgx_spark_short_80", short);
    insta::assert_snapshot!(
        "doctor_dgx_spark_markdown",
        text(|o| render::doctor_markdown(&r, PLAIN, o))
    );
    insta::assert_snapshot!(
        "doctor_dgx_spark_json",
        text(|o| render::doctor_json(&r, o))
    );
}

#[test]
fn doctor_mac_studio_m3_ultra() {
    let m = matrix();
    let r = report(&m, "mac-studio-m3-ultra");
    insta::assert_snapshot!(
        "doctor_mac_studio_table",
        text(|o| render::doctor_text(&r, PLAIN, true, o))
    );
    insta::assert_snapshot!(
        "doctor_mac_studio_ascii",
        text(|o| render::doctor_text(
            &r,
            Style {
                color: false,
                ascii: true,
                width: 100,
                width_known: true,
            },
            true,
            o
        ))
    );
    insta::assert_snapshot!(
        "doctor_mac_studio_markdown",
        text(|o| render::doctor_markdown(&r, PLAIN, o))
    );
    insta::assert_snapshot!(
        "doctor_mac_studio_json",
        text(|o| render::doctor_json(&r, o))
    );
}

#[test]
fn table_two_machines() {
    let m = matrix();
    let grid = Grid::from_reports(&[report(&m, "dgx-spark"), report(&m, "mac-studio-m3-ultra")]);
    insta::assert_snapshot!(
        "table_markdown",
        text(|o| render::grid_markdown(&grid, PLAIN, o))
    );
    insta::assert_snapshot!("table_text", text(|o| render::grid_text(&grid, PLAIN, o)));
    let html = text(|o| render::grid_html(&grid, o));
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(
        !html.contains("<script") && !html.contains("<link"),
        "self-contained"
    );
}
