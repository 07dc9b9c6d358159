//! Embeds `matrix/` into the binary so `mlcompat doctor` works from any folder, each file with its YAML
//! tree already parsed (src/yaml/preparsed.rs): scanning the text was most of a cached `doctor`'s time.

use std::fs;
use std::path::Path;

/// The same YAML reader the binary uses, so the trees are exactly what it would parse.
#[allow(dead_code, unused_imports)]
#[path = "src/yaml/mod.rs"]
mod yaml;

fn main() {
    // Read when the script runs, not baked in when it was compiled: a target folder copied from another
    // checkout must embed this checkout's matrix.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("matrix");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut out = String::from("pub static FILES: &[(&str, &str, &[u8])] = &[\n");
    for (i, rel) in files.iter().enumerate() {
        let abs = root.join(rel);
        // A file that does not parse is embedded without a tree: the loader then reports it as it
        // would any file.
        let tree = fs::read_to_string(&abs)
            .ok()
            .and_then(|text| yaml::parse_text(&text).ok())
            .map(|node| yaml::preparsed::encode(&node))
            .unwrap_or_default();
        let bin = Path::new(&out_dir).join(format!("preparsed-{i}.bin"));
        fs::write(&bin, tree).expect("OUT_DIR is writable");
        out.push_str(&format!(
            "    ({rel:?}, include_str!({:?}), include_bytes!({:?})),\n",
            abs.display().to_string(),
            bin.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = Path::new(&out_dir).join("embedded_matrix.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            if let Ok(rel) = path.strip_prefix(root) {
                files.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
}
