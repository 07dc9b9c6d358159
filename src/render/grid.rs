//! `mlcompat table`: software down, machines across — the comparison table for docs.

use std::io::{self, Write};

use serde::Serialize;

use super::doctor::{escape, source_link};
use super::text::{display_width, pad, truncate, Style};
use crate::matrix::{CheckedRange, Status, Support};
use crate::report::Report;

pub const TABLE_SCHEMA: &str = "mlcompat.table/1";

#[derive(Debug, Clone, Serialize)]
pub struct Grid {
    pub schema: &'static str,
    pub machines: Vec<GridMachine>,
    pub rows: Vec<GridRow>,
    /// The oldest and newest day the matrix's sources were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix_checked: Option<CheckedRange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridMachine {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridRow {
    pub id: String,
    pub name: String,
    pub category: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Serialize)]
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
            machines,
            rows,
            matrix_checked: reports.first().and_then(|r| r.matrix_checked),
        }
    }
}

/// Widest note shown in a terminal cell.
const CELL_WIDTH: usize = 34;

pub fn grid_text(grid: &Grid, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let name_w = grid
        .rows
        .iter()
        .map(|r| display_width(&r.name))
        .max()
        .unwrap_or(8)
        .max(8);
    let sym_w = if style.ascii { 4 } else { 2 };
    let widths: Vec<usize> = grid
        .machines
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
        .collect();
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
    if let Some(range) = grid.matrix_checked {
        writeln!(out, "\n{}", style.dim(&format!("{range}.")))?;
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

/// One self-contained HTML file: inline CSS, no scripts, each cell's reason and source in a tooltip.
pub fn grid_html(grid: &Grid, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>mlcompat: software compatibility</title>")?;
    writeln!(out, "<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}th,td{{border:1px solid #ccc;padding:.35rem .6rem;text-align:left;vertical-align:top}}th{{background:#f4f4f4}}td.ok{{background:#e9f7ef}}td.warn{{background:#fff8e1}}td.fail{{background:#fdecea}}td small{{color:#555}}tr.cat th{{background:#e8e8e8}}</style>\n</head>\n<body>")?;
    writeln!(
        out,
        "<h1>What runs where</h1>\n<table>\n<thead><tr><th>Software</th>"
    )?;
    for m in &grid.machines {
        writeln!(out, "<th>{}</th>", html(&m.name))?;
    }
    writeln!(out, "</tr></thead>\n<tbody>")?;
    let mut category = "";
    for row in &grid.rows {
        if row.category != category {
            category = &row.category;
            writeln!(
                out,
                "<tr class=\"cat\"><th colspan=\"{}\">{}</th></tr>",
                grid.machines.len() + 1,
                html(category)
            )?;
        }
        write!(out, "<tr><th>{}</th>", html(&row.name))?;
        for cell in &row.cells {
            let class = match cell.status {
                Status::Ok => "ok",
                Status::Warn => "warn",
                Status::Fail => "fail",
            };
            let symbol = Style::default().symbol(cell.status);
            let link = if cell.source.starts_with("http") {
                let url = cell.source.split_whitespace().next().unwrap_or_default();
                format!(" <a href=\"{}\">source</a>", html(url))
            } else {
                String::new()
            };
            write!(
                out,
                "<td class=\"{class}\" title=\"{}\">{symbol} {}<br><small>{}</small></td>",
                html(&cell.reason),
                html(&cell.note),
                link.trim()
            )?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>\n</table>\n<p><small>Generated by mlcompat from its sourced matrix. Hover a cell for the reason.</small></p>")?;
    if let Some(range) = grid.matrix_checked {
        writeln!(out, "<p><small>{range}.</small></p>")?;
    }
    writeln!(out, "</body>\n</html>")
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
