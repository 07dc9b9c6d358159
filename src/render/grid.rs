//! `mlcompat table`: software down, machines across — the comparison table for docs, and the fleet table
//! over saved facts. Many machines stay readable: text switches to one symbol per cell with numbered
//! columns, split into groups that fit the width; HTML scrolls inside its frame with the header row and the
//! software column held in place.

use std::io::{self, Write};

use serde::Serialize;

use super::doctor::{escape, source_link};
use super::text::{display_width, pad, truncate, Style};
use crate::matrix::{CheckedRange, Status, Support};
use crate::report::Report;

pub const TABLE_SCHEMA: &str = "mlcompat.table/1";

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Grid {
    pub schema: &'static str,
    /// The mlcompat that judged (its matrix is embedded, so the version names the matrix too).
    pub mlcompat_version: &'static str,
    pub machines: Vec<GridMachine>,
    pub rows: Vec<GridRow>,
    /// The oldest and newest day the matrix's sources were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix_checked: Option<CheckedRange>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GridMachine {
    pub id: String,
    pub name: String,
    /// `profile`, `facts` (a saved file) or `live`.
    pub origin: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GridRow {
    pub id: String,
    pub name: String,
    pub category: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Cell {
    pub status: Status,
    pub support: Support,
    pub note: String,
    pub reason: String,
    pub source: String,
}

impl Grid {
    /// One column per report; rows follow the first report's order (all come from one matrix).
    pub fn from_reports(reports: &[Report]) -> Grid {
        let machines = reports
            .iter()
            .map(|r| GridMachine {
                id: r.machine.id.clone().unwrap_or_default(),
                name: r.machine.name.clone(),
                origin: r.machine.origin.clone(),
            })
            .collect();
        let rows = reports
            .first()
            .map(|first| {
                first
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(i, row)| GridRow {
                        id: row.id.clone(),
                        name: row.name.clone(),
                        category: row.category_title.clone(),
                        cells: reports
                            .iter()
                            .filter_map(|r| r.rows.get(i))
                            .map(|r| Cell {
                                status: r.status,
                                support: r.support,
                                note: r.note.clone(),
                                reason: r.reason.clone(),
                                source: r.source.clone(),
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Grid {
            schema: TABLE_SCHEMA,
            mlcompat_version: env!("CARGO_PKG_VERSION"),
            machines,
            rows,
            matrix_checked: reports.first().and_then(|r| r.matrix_checked),
        }
    }
}

/// Widest note shown in a terminal cell.
const CELL_WIDTH: usize = 34;

/// The table at full width: a symbol and a note per cell.
pub fn grid_text(grid: &Grid, style: Style, out: &mut dyn Write) -> io::Result<()> {
    grid_text_fit(grid, style, usize::MAX, out)
}

/// The table within `width` columns: full cells when they fit; otherwise one symbol per cell under
/// numbered columns, with the machines listed first, in as many groups of columns as the width needs.
pub fn grid_text_fit(
    grid: &Grid,
    style: Style,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    if full_width(grid, style) <= width || grid.machines.len() <= 1 {
        full_text(grid, style, out)?;
    } else {
        compact_text(grid, style, width, out)?;
    }
    if let Some(range) = grid.matrix_checked {
        writeln!(out, "\n{}", style.dim(&format!("{range}.")))?;
    }
    Ok(())
}

fn name_width(grid: &Grid) -> usize {
    grid.rows
        .iter()
        .map(|r| display_width(&r.name))
        .max()
        .unwrap_or(8)
        .max(8)
}

fn column_widths(grid: &Grid, style: Style) -> Vec<usize> {
    let sym_w = if style.ascii { 4 } else { 2 };
    grid.machines
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let notes = grid
                .rows
                .iter()
                .filter_map(|r| r.cells.get(i))
                .map(|c| sym_w + 1 + display_width(&truncate(&c.note, CELL_WIDTH)));
            notes.max().unwrap_or(0).max(display_width(&m.name))
        })
        .collect()
}

fn full_width(grid: &Grid, style: Style) -> usize {
    name_width(grid)
        + column_widths(grid, style)
            .iter()
            .map(|w| w + 2)
            .sum::<usize>()
}

fn compact_text(grid: &Grid, style: Style, width: usize, out: &mut dyn Write) -> io::Result<()> {
    let name_w = name_width(grid);
    let sym_w = if style.ascii { 4 } else { 2 };
    let n = grid.machines.len();
    let col_w = |i: usize| display_width(&format!("{}", i + 1)).max(sym_w);
    for (i, m) in grid.machines.iter().enumerate() {
        let origin = if m.origin == "profile" {
            format!("profile {}", m.id)
        } else {
            m.origin.clone()
        };
        writeln!(
            out,
            "{:>w$}  {} ({origin})",
            i + 1,
            m.name,
            w = n.to_string().len()
        )?;
    }
    let mut start = 0;
    while start < n {
        // As many columns as fit, at least one.
        let mut end = start + 1;
        let mut used = name_w + 2 + col_w(start);
        while end < n && used + 2 + col_w(end) <= width {
            used += 2 + col_w(end);
            end += 1;
        }
        writeln!(out)?;
        let mut header = pad("Software", name_w);
        for i in start..end {
            header.push_str("  ");
            header.push_str(&pad(&format!("{}", i + 1), col_w(i)));
        }
        writeln!(out, "{}", style.bold(header.trim_end()))?;
        for row in &grid.rows {
            let mut line = pad(&row.name, name_w);
            for i in start..end {
                line.push_str("  ");
                match row.cells.get(i) {
                    Some(cell) => {
                        let cell_w = col_w(i);
                        line.push_str(&style.status_cell(cell.status));
                        line.push_str(&" ".repeat(cell_w.saturating_sub(sym_w)));
                    }
                    None => line.push_str(&" ".repeat(col_w(i))),
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        start = end;
    }
    Ok(())
}

fn full_text(grid: &Grid, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let name_w = name_width(grid);
    let sym_w = if style.ascii { 4 } else { 2 };
    let widths = column_widths(grid, style);
    let mut header = pad("Software", name_w);
    for (m, w) in grid.machines.iter().zip(&widths) {
        header.push_str("  ");
        header.push_str(&pad(&m.name, *w));
    }
    writeln!(out, "{}", style.bold(header.trim_end()))?;
    for row in &grid.rows {
        let mut line = pad(&row.name, name_w);
        for (cell, w) in row.cells.iter().zip(&widths) {
            let note = truncate(&cell.note, CELL_WIDTH);
            let plain_w = sym_w + 1 + display_width(&note);
            line.push_str("  ");
            line.push_str(&style.status_cell(cell.status));
            line.push(' ');
            line.push_str(&note);
            line.push_str(&" ".repeat(w.saturating_sub(plain_w)));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

pub fn grid_json(grid: &Grid, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, grid)?;
    writeln!(out)
}

pub fn grid_markdown(grid: &Grid, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let style = Style {
        color: false,
        ..style
    };
    write!(out, "| Software |")?;
    for m in &grid.machines {
        write!(out, " {} |", escape(&m.name))?;
    }
    writeln!(out)?;
    write!(out, "|---|")?;
    for _ in &grid.machines {
        write!(out, "---|")?;
    }
    writeln!(out)?;
    for row in &grid.rows {
        write!(out, "| {} |", escape(&row.name))?;
        for cell in &row.cells {
            write!(
                out,
                " {} {} |",
                style.symbol(cell.status),
                escape(&cell.note)
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    writeln!(out, "Sources:")?;
    writeln!(out)?;
    for row in &grid.rows {
        let mut sources: Vec<&str> = row.cells.iter().map(|c| c.source.as_str()).collect();
        sources.dedup();
        let links: Vec<String> = sources.iter().map(|s| source_link(s)).collect();
        writeln!(out, "- {}: {}", escape(&row.name), links.join("; "))?;
    }
    if let Some(range) = grid.matrix_checked {
        writeln!(out, "\n_{range}._")?;
    }
    Ok(())
}

/// One self-contained HTML file: inline CSS, no scripts, each cell's reason in a tooltip. The table
/// scrolls inside its frame with the header row and the software column sticky, so a fleet of machines
/// stays readable; verdicts are words on colored badges, not emoji, which a browser without an emoji
/// font draws as empty boxes.
pub fn grid_html(grid: &Grid, out: &mut dyn Write) -> io::Result<()> {
    let version = html(grid.mlcompat_version);
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"mlcompat {version}\">\n<title>mlcompat: software compatibility</title>")?;
    writeln!(out, "<style>{HTML_STYLE}</style>\n</head>\n<body>")?;
    writeln!(out, "<h1>What runs where</h1>")?;
    let (checked, footer) = match &grid.matrix_checked {
        Some(range) => {
            let range = html(&range.to_string());
            (format!(" · {range}"), format!(" {range}."))
        }
        None => (String::new(), String::new()),
    };
    writeln!(
        out,
        "<p class=\"meta\">mlcompat {version}{checked} · {} machines × {} software · <span class=\"v ok\">OK</span> runs <span class=\"v warn\">WARN</span> needs care <span class=\"v fail\">FAIL</span> does not run · hover a cell for the reason</p>",
        grid.machines.len(),
        grid.rows.len()
    )?;
    writeln!(
        out,
        "<div class=\"frame\">\n<table>\n<thead><tr><th class=\"corner\" scope=\"col\">Software</th>"
    )?;
    for m in &grid.machines {
        let origin = match m.origin.as_str() {
            "profile" => format!("profile {}", m.id),
            "live" => "this machine".to_string(),
            _ => "saved facts".to_string(),
        };
        writeln!(
            out,
            "<th scope=\"col\">{}<br><small>{}</small></th>",
            html(&m.name),
            html(&origin)
        )?;
    }
    writeln!(out, "</tr></thead>\n<tbody>")?;
    let mut category = "";
    for row in &grid.rows {
        if row.category != category {
            category = &row.category;
            writeln!(
                out,
                "<tr class=\"cat\"><th scope=\"rowgroup\">{}</th><td colspan=\"{}\"></td></tr>",
                html(category),
                grid.machines.len()
            )?;
        }
        write!(out, "<tr><th scope=\"row\">{}</th>", html(&row.name))?;
        for cell in &row.cells {
            let (class, word) = match cell.status {
                Status::Ok => ("ok", "OK"),
                Status::Warn => ("warn", "WARN"),
                Status::Fail => ("fail", "FAIL"),
            };
            let link = if cell.source.starts_with("http") {
                let url = cell.source.split_whitespace().next().unwrap_or_default();
                format!(" <a href=\"{}\">source</a>", html(url))
            } else {
                String::new()
            };
            write!(
                out,
                "<td class=\"{class}\" title=\"{}\"><span class=\"v {class}\">{word}</span> {}<small>{}</small></td>",
                html(&crate::untrusted::one_line(&cell.reason)),
                html(&crate::untrusted::one_line(&cell.note)),
                link
            )?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>\n</table>\n</div>\n<p class=\"meta\">Generated by mlcompat {version} from its sourced matrix: every verdict links the page it comes from.{footer}</p>\n</body>\n</html>")
}

/// Sticky header row and first column inside a scrolling frame; badges in plain text.
const HTML_STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem}\
.meta{color:#444;font-size:.9rem}\
.frame{overflow:auto;max-height:85vh;max-width:100%;border:1px solid #ccc}\
table{border-collapse:separate;border-spacing:0}\
th,td{border-right:1px solid #ddd;border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left;vertical-align:top;min-width:9rem;max-width:18rem}\
thead th{position:sticky;top:0;z-index:2;background:#f4f4f4}\
tbody th{position:sticky;left:0;z-index:1;background:#fafafa;min-width:12rem}\
thead th.corner{left:0;z-index:3}\
tr.cat th,tr.cat td{background:#e8e8e8}\
td.ok{background:#e9f7ef}td.warn{background:#fff8e1}td.fail{background:#fdecea}\
td small{display:block;color:#555}\
.v{display:inline-block;min-width:2.6em;padding:0 .3em;border-radius:3px;font:bold .75rem/1.4 ui-monospace,monospace;text-align:center;color:#fff}\
.v.ok{background:#1e7e34}.v.warn{background:#9a6700}.v.fail{background:#c62828}";

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
