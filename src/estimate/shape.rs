//! The shape of a model given only by its size: the real configuration nearest in size among the
//! catalog's language models (their config.json: layers, KV heads, head size), a mixture of experts
//! among mixtures of experts. Models whose shape current families no longer use are left out
//! (`guess: false`: multi-head attention without grouped KV heads). With no catalog to draw on, a power
//! law fitted on that same table gives the layers, with 8 KV heads of 128.

use crate::matrix::workloads::{Model, ModelKind, Workloads};

/// Layers ≈ A · params_b^B, least squares in log space over the catalog's real configs (docs/workloads.md
/// shows the fit); used only when the catalog has no shape to take.
const LAYERS_A: f64 = 21.8;
const LAYERS_B: f64 = 0.280;

#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    /// Query heads.
    pub heads: u32,
    pub moe: Option<(u32, u32)>,
    pub sliding_window: Option<u32>,
    pub full_attention_every: Option<u32>,
    /// The real model whose shape this is, if any.
    pub from: Option<String>,
}

/// Query heads when a config does not say: hidden ≈ √(params / (12 · layers)) (attention 4h² + MLP 8h² per
/// layer), split in heads of `head_dim`.
pub fn heads_for(params_b: f64, layers: u32, head_dim: u32) -> u32 {
    let hidden = (params_b.max(1e-3) * 1e9 / (12.0 * f64::from(layers.max(1)))).sqrt();
    ((hidden / f64::from(head_dim.max(1))).round() as u32).max(1)
}

/// A catalog model's own shape, if its config is complete.
pub fn of_model(m: &Model) -> Option<Shape> {
    let (layers, kv_heads, head_dim) = (m.layers?, m.kv_heads?, m.head_dim?);
    Some(Shape {
        layers,
        kv_heads,
        head_dim,
        heads: m
            .heads
            .unwrap_or_else(|| heads_for(m.params_b, layers, head_dim)),
        moe: m.moe(),
        sliding_window: m.sliding_window,
        full_attention_every: m.full_attention_every,
        from: Some(m.name.clone()),
    })
}

/// The family-typical shape for a model of `params_b` billion parameters (a mixture of experts when
/// `moe`): the nearest real configuration in size.
pub fn guess(catalog: &Workloads, params_b: f64, moe: bool) -> Shape {
    let size = params_b.max(1e-3).ln();
    let nearest = catalog
        .models
        .iter()
        .filter(|m| m.kind == ModelKind::Llm && m.guess && (m.moe().is_some() == moe))
        .filter_map(|m| of_model(m).map(|s| (m, s)))
        .min_by(|(a, _), (b, _)| {
            let da = (a.params_b.ln() - size).abs();
            let db = (b.params_b.ln() - size).abs();
            da.total_cmp(&db)
        });
    match nearest {
        Some((_, shape)) => shape,
        None => {
            let layers = (LAYERS_A * params_b.max(1e-3).powf(LAYERS_B))
                .round()
                .max(1.0) as u32;
            Shape {
                layers,
                kv_heads: 8,
                head_dim: 128,
                heads: heads_for(params_b, layers, 128),
                moe: None,
                sliding_window: None,
                full_attention_every: None,
                from: None,
            }
        }
    }
}

/// A catalog model's shape; where its config is incomplete, the family-typical one for its size.
pub fn architecture(catalog: &Workloads, model: &Model) -> Shape {
    of_model(model).unwrap_or_else(|| {
        let mut s = guess(catalog, model.params_b, model.moe().is_some());
        s.layers = model.layers.unwrap_or(s.layers);
        s.kv_heads = model.kv_heads.unwrap_or(s.kv_heads);
        s.head_dim = model.head_dim.unwrap_or(s.head_dim);
        s
    })
}
